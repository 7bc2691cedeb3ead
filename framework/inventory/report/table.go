package report

import (
	"fmt"
	"io"
	"strings"
	"text/tabwriter"

	"github.com/hwcert/hwcert/framework/cpuset"
)

// Table writes the report for a terminal: one block per host (NUMA nodes, then devices), one per
// alias (where its devices are, which spec families can run and why the others cannot), then the
// warnings. Columns are aligned; long names come last on a line so the table stays readable when
// a terminal cuts it.
func (r *Report) Table(w io.Writer) error {
	ew := &errWriter{w: w}
	if r.Compute != nil {
		ew.printf("compute API microversions %s to %s\n", r.Compute.MinMicroversion, r.Compute.MaxMicroversion)
	}
	ew.printf("PCI NUMA affinity reading expected: %s\n", r.PCINUMAAffinity)
	for _, h := range r.Hosts {
		dedicated := "unknown"
		if h.CPUDedicatedSet != nil {
			dedicated = *h.CPUDedicatedSet
		}
		ew.printf("\nhost %s (cpu_dedicated_set: %s)\n", h.Name, dedicated)
		tw := tabwriter.NewWriter(ew, 0, 0, 2, ' ', 0)
		fmt.Fprintln(tw, "  NODE\tSOCKET\tMEMORY\tCPUS\tTHREAD SIBLINGS")
		for _, n := range h.NUMANodes {
			fmt.Fprintf(tw, "  %d\t%s\t%d MiB\t%s\t%s\n", n.ID, intOrDash(n.Socket), n.MemoryMiB, cpuList(n.CPUs), siblings(n.CPUs))
		}
		if err := tw.Flush(); err != nil {
			return err
		}
		if len(h.Devices) == 0 {
			ew.printf("  no device of a catalog alias\n")
			continue
		}
		tw = tabwriter.NewWriter(ew, 0, 0, 2, ' ', 0)
		fmt.Fprintln(tw, "  ADDRESS\tID\tTYPE\tPARENT PF\tNODE\tDRIVER\tEXPOSED\tALIASES\tNAME")
		for _, d := range h.Devices {
			fmt.Fprintf(tw, "  %s\t%s:%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", d.Address, d.VendorID, d.ProductID, strings.ToUpper(d.Function),
				orDash(d.ParentPF), nodeName(d.NUMANode), orDash(d.Driver), boolOrDash(d.Exposed), strings.Join(d.Aliases, ","), name(d))
		}
		if err := tw.Flush(); err != nil {
			return err
		}
	}
	for _, a := range r.Aliases {
		kind := strings.ToUpper(a.Function)
		if !a.Supported {
			kind += ", passthrough not supported"
		}
		if a.Optional {
			kind += ", optional"
		}
		unexposed := ""
		if a.Unexposed > 0 {
			unexposed = fmt.Sprintf(" (and %d kept out of [pci] device_spec)", a.Unexposed)
		}
		ew.printf("\nalias %s (%s %s): %d devices%s\n", a.Alias, a.ID, kind, a.Devices, unexposed)
		for _, p := range a.Placement {
			ew.printf("  %s: %s\n", p.Host, p.nodesText())
		}
		if !a.Supported {
			ew.printf("  only the negative specs use it: a request for it must not end ACTIVE with the device attached\n")
		}
		if a.Optional {
			ew.printf("  optional: its specs run only where the lab's Nova defines it, which its API does not tell\n")
		}
		if a.Supported && a.Devices == 0 && len(a.Families) > 0 {
			ew.printf("  ✘ every spec family: %s\n", a.Families[0].Reason)
			continue
		}
		for _, f := range a.Families {
			if f.CanRun {
				ew.printf("  ✔ %s (%s)\n", f.Name, strings.Join(f.Hosts, ", "))
			} else {
				ew.printf("  ✘ %s: %s\n", f.Name, f.Reason)
			}
		}
	}
	if len(r.Warnings) > 0 {
		ew.printf("\nwarnings:\n")
		for _, w := range r.Warnings {
			ew.printf("  ! %s\n", w)
		}
	}
	return ew.err
}

// errWriter keeps the first write error, so Table checks once.
type errWriter struct {
	w   io.Writer
	err error
}

func (e *errWriter) Write(p []byte) (int, error) {
	if e.err != nil {
		return 0, e.err
	}
	n, err := e.w.Write(p)
	e.err = err
	return n, err
}

func (e *errWriter) printf(format string, args ...any) { fmt.Fprintf(e, format, args...) }

func cpuList(cpus []CPU) string {
	ids := make([]int, len(cpus))
	for i, c := range cpus {
		ids[i] = c.ID
	}
	return orDash(cpuset.Format(ids))
}

// siblings lists each thread-sibling group once, in CPU order: "0,8 1,9".
func siblings(cpus []CPU) string {
	seen := map[string]bool{}
	var out []string
	for _, c := range cpus {
		if len(c.Siblings) == 0 {
			continue
		}
		s := cpuset.Format(c.Siblings)
		if !seen[s] {
			seen[s] = true
			out = append(out, s)
		}
	}
	return orDash(strings.Join(out, " "))
}

func name(d Device) string {
	return strings.TrimSpace(d.VendorName + " " + d.ProductName)
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

func intOrDash(p *int) string {
	if p == nil {
		return "-"
	}
	return fmt.Sprint(*p)
}

func boolOrDash(p *bool) string {
	switch {
	case p == nil:
		return "-"
	case *p:
		return "yes"
	default:
		return "no"
	}
}
