package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/spf13/cobra"
	"sigs.k8s.io/yaml"

	"github.com/hwcert/hwcert/config"
	"github.com/hwcert/hwcert/fixtures/labs"
	"github.com/hwcert/hwcert/framework/catalog"
	"github.com/hwcert/hwcert/framework/hypervisor"
	"github.com/hwcert/hwcert/framework/inventory/report"
	"github.com/hwcert/hwcert/framework/labfile"
	"github.com/hwcert/hwcert/framework/mockboot"
	"github.com/hwcert/hwcert/framework/openstack"
	"github.com/hwcert/hwcert/framework/suite"
)

func init() { subcommands = append(subcommands, newInventoryCommand) }

// target is the lab a command looks at: a config's, or an embedded mock lab started for it.
type target struct {
	file string
	cfg  *config.Config
	cat  *catalog.Catalog
	mock *mockboot.Lab
}

// openTarget loads configFile, or starts the embedded mock lab labName when configFile is empty.
// Errors are usage errors (exit 2). Close stops the mock.
func openTarget(ctx context.Context, configFile, labName string) (*target, error) {
	if configFile != "" && labName != "" {
		return nil, usageErr("--config names a lab to look at; --lab starts the embedded mock, and cannot be combined with it")
	}
	t := &target{file: configFile}
	if configFile == "" {
		l, err := mockboot.Start(ctx, mockboot.Options{Lab: labName})
		if err != nil {
			return nil, &exitError{code: exitUsage, err: err}
		}
		t.mock, t.file = l, l.ConfigFile()
	}
	var err error
	if t.cfg, err = config.Load(t.file); err == nil {
		t.cat, err = suite.LoadCatalog(t.cfg)
	}
	if err != nil {
		t.Close()
		return nil, &exitError{code: exitUsage, err: err}
	}
	return t, nil
}

func (t *target) Close() {
	if t.mock != nil {
		_ = t.mock.Close()
	}
}

func newInventoryCommand() *cobra.Command {
	var configFile, labName, output, writeLab string
	cmd := &cobra.Command{
		Use:   "inventory [--config FILE] [--output table|json|yaml] [--write-lab FILE]",
		Short: "Show what a lab has: hosts, NUMA nodes, catalog devices, which spec families can run and why not",
		Long: `Discover the lab a harness config names (without --config, the embedded mock lab, default "` + labs.Default + `"
or --lab) as the suites do: the compute hosts Nova lists, and from each host's libvirtd its NUMA
nodes (socket, memory, CPUs and thread siblings) and the PCI devices of catalog aliases (address,
vendor:product, PF/VF/PCI, parent PF, NUMA node, driver, whether Nova exposes it, aliases). Per
catalog alias: where its devices are and which spec families can run, with the reason the specs
skip with for those that cannot. Then warnings for what would surprise a run.

--output json is a stable document (schema "` + report.Schema + `", described in README.md).
--write-lab FILE also writes a mock lab file that mirrors the lab, to replay it without hardware:
hwcert run --lab FILE.`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if output != "table" && output != "json" && output != "yaml" {
				return usageErr("--output %q: expected table, json or yaml", output)
			}
			t, err := openTarget(cmd.Context(), configFile, labName)
			if err != nil {
				return err
			}
			defer t.Close()
			rep, lab, err := discoverLab(cmd.Context(), t, writeLab != "")
			if err != nil {
				return err
			}
			if writeLab != "" {
				if err := os.WriteFile(writeLab, lab, 0o644); err != nil {
					return fmt.Errorf("--write-lab: %w", err)
				}
				fmt.Fprintf(cmd.ErrOrStderr(), "hwcert: wrote the lab file %s (replay it with: hwcert run --lab %s)\n", writeLab, labArg(writeLab))
			}
			return writeReport(cmd.OutOrStdout(), rep, output)
		},
	}
	f := cmd.Flags()
	f.StringVar(&configFile, "config", "", "harness config of the lab (default: start the embedded mock)")
	f.StringVar(&labName, "lab", "", "embedded mock only: shipped lab ("+strings.Join(labs.Names(), ", ")+") or lab file")
	f.StringVarP(&output, "output", "o", "table", "table, json or yaml")
	f.StringVar(&writeLab, "write-lab", "", "also write a mock lab file mirroring the lab to FILE")
	return cmd
}

// discoverLab connects to the target's lab, discovers it with the suites' code and builds the
// report, and with withLab the lab file mirroring it.
func discoverLab(ctx context.Context, t *target, withLab bool) (*report.Report, []byte, error) {
	cloud, err := openstack.New(ctx, t.cfg)
	if err != nil {
		return nil, nil, err
	}
	hv := hypervisor.New(t.cfg.HypervisorURI)
	defer func() { _ = hv.Close() }()
	inv, err := suite.Discover(ctx, t.cfg, cloud, hv, t.cat)
	if err != nil {
		return nil, nil, err
	}
	rep := report.Build(inv, t.cat, t.cfg.Expect.PCINUMAAffinity, t.cfg.Nova.CPUDedicatedSet)
	lo, hi, err := cloud.ComputeVersions(ctx)
	if err != nil {
		return nil, nil, err
	}
	rep.Compute = &report.Compute{MinMicroversion: lo, MaxMicroversion: hi}
	if !withLab {
		return rep, nil, nil
	}
	imageID, err := cloud.ResolveImage(ctx, t.cfg.Image)
	if err != nil {
		return nil, nil, fmt.Errorf("config image: %w", err)
	}
	name := t.cfg.Cloud
	if t.mock != nil {
		name = t.mock.Name
	}
	lab, err := labfile.Write(inv, t.cat, labfile.Options{Name: name, MaxMicroversion: hi, PCINUMAAffinity: t.cfg.Expect.PCINUMAAffinity,
		Image: &labfile.Image{ID: imageID, Name: t.cfg.Image}, DeviceSpec: t.cfg.Nova.DeviceSpec, CPUDedicatedSet: t.cfg.Nova.CPUDedicatedSet})
	return rep, lab, err
}

func writeReport(w io.Writer, rep *report.Report, output string) error {
	switch output {
	case "json":
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		return enc.Encode(rep)
	case "yaml":
		out, err := yaml.Marshal(rep)
		if err != nil {
			return err
		}
		_, err = w.Write(out)
		return err
	default:
		return rep.Table(w)
	}
}

// labArg is how --lab must spell a file so it is not taken for a shipped lab name.
func labArg(file string) string {
	if labs.IsPath(file) {
		return file
	}
	return "./" + file
}
