package novaspec

import (
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/hwcert/hwcert/config/vocab"
)

// CPU thread policies (hw:cpu_thread_policy).
const (
	ThreadPrefer  = "prefer"
	ThreadIsolate = "isolate"
	ThreadRequire = "require"
)

// GuestCell is one guest NUMA cell as Nova's InstanceNUMACell: its vCPUs split into shared
// (floating) and dedicated (pinned) ones, and its memory.
type GuestCell struct {
	ID        int
	Shared    []int // guest vCPU ids that float over the host cell's shared CPUs
	Dedicated []int // guest vCPU ids pinned 1:1 to host cell dedicated CPUs
	MemoryMB  int
}

// VCPUs returns every guest vCPU of the cell, sorted.
func (c GuestCell) VCPUs() []int {
	out := append(append([]int(nil), c.Shared...), c.Dedicated...)
	slices.Sort(out)
	return out
}

// Topology is the guest NUMA topology Nova derives from a flavor (numa_get_constraints).
type Topology struct {
	Cells        []GuestCell
	CPUPolicy    string // shared, dedicated or mixed
	ThreadPolicy string // "" (prefer), prefer, isolate or require
	// EmulatorThreadsIsolate (hw:emulator_threads_policy=isolate) reserves one more dedicated pCPU
	// on the host node of guest cell 0.
	EmulatorThreadsIsolate bool
	// PageSize is hw:mem_page_size as given ("" when unset).
	PageSize string
}

// TopologyError is an invalid NUMA/CPU request in a flavor, found at server create. Code is 400
// for Nova's Invalid exceptions, 500 where Nova hits a bare ValueError.
type TopologyError struct {
	Code    int
	Message string
}

func (e *TopologyError) Error() string { return e.Message }

func badTopo(format string, args ...any) error {
	return &TopologyError{Code: 400, Message: fmt.Sprintf(format, args...)}
}

// numaNodesMax is ImageMetaProps.NUMA_NODES_MAX: hw:numa_cpus.N / hw:numa_mem.N are read for
// N = 0, 1, ... until the first missing one, at most this many.
const numaNodesMax = 128

// MaxGuestVCPUs bounds the flavors the mock reasons about, so that a hostile flavor cannot make
// it allocate per-vCPU tables of any size; no host of a lab has that many CPUs anyway.
const MaxGuestVCPUs = 1 << 16

// GuestTopology derives the guest NUMA topology from a flavor's vCPUs, memory and extra specs, or
// nil when the guest has none (no hw:numa_nodes, no dedicated/mixed CPU policy, no
// hw:mem_page_size). Invalid combinations give a *TopologyError with Nova's message.
func GuestTopology(vcpus, memoryMB int, specs map[string]string) (*Topology, error) {
	if vcpus < 1 || vcpus > MaxGuestVCPUs || memoryMB < 1 {
		return nil, badTopo("vcpus %d, memory_mb %d: expected 1-%d vCPUs and at least 1 MB", vcpus, memoryMB, MaxGuestVCPUs)
	}
	policy := specs[vocab.SpecCPUPolicy]
	if policy != "" && policy != vocab.CPUShared && policy != vocab.CPUDedicated && policy != vocab.CPUMixed {
		return nil, badTopo("CPU policy requested from 'flavor extra specs' is invalid, given: '%s', available: '('dedicated', 'shared', 'mixed')'.", policy)
	}
	thread := specs["hw:cpu_thread_policy"]
	if thread != "" && thread != ThreadPrefer && thread != ThreadIsolate && thread != ThreadRequire {
		return nil, badTopo("CPU thread policy requested from 'flavor extra specs' is invalid, given: '%s', available: '('prefer', 'isolate', 'require')'.", thread)
	}
	realtime, _ := pyBool(specs["hw:cpu_realtime"])
	var realtimeCPUs []int
	if realtime {
		if mask := specs["hw:cpu_realtime_mask"]; mask != "" {
			set, err := parseCPUSpec(fmt.Sprintf("0-%d,%s", vcpus-1, mask))
			if err != nil {
				return nil, err
			}
			realtimeCPUs = set
		}
	}
	dedicatedCPUs, err := dedicatedMask(vcpus, specs["hw:cpu_dedicated_mask"])
	if err != nil {
		return nil, err
	}
	emu := specs["hw:emulator_threads_policy"]
	if emu != "" && emu != "share" && emu != "isolate" {
		return nil, badTopo("CPU emulator threads option requested is invalid, given: '%s', available: '('share', 'isolate')'.", emu)
	}

	switch policy {
	case "", vocab.CPUShared:
		switch {
		case thread != "":
			return nil, badTopo("Cannot set cpu thread pinning policy in a non dedicated cpu pinning policy")
		case emu == "isolate":
			return nil, badTopo("An isolated CPU emulator threads option requires a dedicated CPU policy option.")
		case dedicatedCPUs != nil:
			return nil, badTopo("Cannot specify 'hw:cpu_dedicated_mask' without the 'mixed' policy.")
		case realtime:
			return nil, badTopo("Cannot set realtime policy in a non dedicated cpu pinning policy")
		}
	case vocab.CPUDedicated:
		if dedicatedCPUs != nil {
			return nil, badTopo("Cannot specify 'hw:cpu_dedicated_mask' without the 'mixed' policy.")
		}
		dedicatedCPUs = seq(0, vcpus)
	case vocab.CPUMixed:
		if (realtimeCPUs != nil) == (dedicatedCPUs != nil) {
			return nil, badTopo("Dedicated CPU set can be specified from either 'hw:cpu_dedicated_mask' or 'hw:cpu_realtime_mask' when using 'mixed' CPU policy. 'hw:cpu_dedicated_mask' and 'hw:cpu_realtime_mask' can not be specified at the same time, or be specified with none of them.")
		}
		if dedicatedCPUs == nil {
			dedicatedCPUs = realtimeCPUs
		}
	}

	nodes := 0
	if raw := specs[vocab.SpecNUMANodes]; raw != "" {
		n, err := strconv.Atoi(raw)
		// strutils.is_int_like: str(int(v)) == v, so " 2" and "02" are refused too.
		if err != nil || strconv.Itoa(n) != raw || n < 1 {
			return nil, badTopo("The property 'numa_nodes' cannot be '%s'. It must be a number greater than 0", raw)
		}
		nodes = n
	}
	page := specs["hw:mem_page_size"]
	if page != "" && !validPageSize(page) {
		return nil, badTopo("Invalid memory page size '%s'", page)
	}
	if nodes == 0 && page == "" && policy != vocab.CPUDedicated && policy != vocab.CPUMixed {
		return nil, nil
	}
	if nodes == 0 {
		nodes = 1
	}
	isDedicated := make(map[int]bool, len(dedicatedCPUs))
	for _, c := range dedicatedCPUs {
		isDedicated[c] = true
	}
	split := func(cpus []int) (shared, dedicated []int) {
		for _, c := range cpus {
			if isDedicated[c] {
				dedicated = append(dedicated, c)
			} else {
				shared = append(shared, c)
			}
		}
		return shared, dedicated
	}

	cpuList, err := constraintList(specs, "hw:numa_cpus", func(s string) ([]int, error) { return parseCPUSpec(s) })
	if err != nil {
		return nil, err
	}
	memList, err := constraintList(specs, "hw:numa_mem", func(s string) (int, error) {
		v, ok := pyInt(s)
		if !ok {
			// int() raises a bare ValueError here, which nova-api reports as a 500.
			return 0, &TopologyError{Code: 500, Message: fmt.Sprintf("Unexpected API Error: invalid literal for int() with base 10: %q", s)}
		}
		return clampInt(v), nil
	})
	if err != nil {
		return nil, err
	}
	t := &Topology{CPUPolicy: policy, ThreadPolicy: thread, EmulatorThreadsIsolate: emu == "isolate", PageSize: page}
	if t.CPUPolicy == "" {
		t.CPUPolicy = vocab.CPUShared
	}
	switch {
	case cpuList == nil && memList == nil:
		if vcpus%nodes != 0 || memoryMB%nodes != 0 {
			return nil, badTopo("Instance CPUs and/or memory cannot be evenly distributed across instance NUMA nodes. Explicit assignment of CPUs and memory to nodes is required")
		}
		per := vcpus / nodes
		for n := 0; n < nodes; n++ {
			sh, de := split(seq(n*per, (n+1)*per))
			t.Cells = append(t.Cells, GuestCell{ID: n, Shared: sh, Dedicated: de, MemoryMB: memoryMB / nodes})
		}
	case cpuList != nil && memList != nil:
		if len(cpuList) != nodes || len(memList) != nodes {
			return nil, badTopo("CPU and memory allocation must be provided for all NUMA nodes")
		}
		avail := make(map[int]bool, vcpus)
		for c := 0; c < vcpus; c++ {
			avail[c] = true
		}
		total := 0
		for n := 0; n < nodes; n++ {
			for _, c := range cpuList[n] {
				if c > vcpus-1 {
					return nil, badTopo("CPU number %d is larger than max %d", c, vcpus-1)
				}
				if !avail[c] {
					return nil, badTopo("CPU number %d is assigned to two nodes", c)
				}
				delete(avail, c)
			}
			sh, de := split(cpuList[n])
			t.Cells = append(t.Cells, GuestCell{ID: n, Shared: sh, Dedicated: de, MemoryMB: memList[n]})
			total += memList[n]
		}
		if len(avail) > 0 {
			left := make([]string, 0, len(avail))
			for _, c := range sortedKeys(avail) {
				left = append(left, strconv.Itoa(c))
			}
			return nil, badTopo("CPU number {%s} is not assigned to any node", strings.Join(left, ", "))
		}
		if total != memoryMB {
			return nil, badTopo("%d MB of memory assigned, but expected %d MB", total, memoryMB)
		}
	default:
		return nil, badTopo("CPU and memory allocation must be provided for all NUMA nodes")
	}
	return t, nil
}

func constraintList[T any](specs map[string]string, key string, parse func(string) (T, error)) ([]T, error) {
	var out []T
	for id := 0; id < numaNodesMax; id++ {
		v, ok := specs[fmt.Sprintf("%s.%d", key, id)]
		if !ok {
			break
		}
		p, err := parse(v)
		if err != nil {
			return nil, err
		}
		out = append(out, p)
	}
	return out, nil
}

// dedicatedMask is get_dedicated_cpu_constraint: nil when unset.
func dedicatedMask(vcpus int, mask string) ([]int, error) {
	if mask == "" {
		return nil, nil
	}
	spec := mask
	if strings.HasPrefix(pyStrip(mask), "^") {
		spec = fmt.Sprintf("0-%d,%s", vcpus-1, mask)
	}
	pcpus, err := parseCPUSpec(spec)
	if err != nil {
		return nil, err
	}
	inRange := 0
	for _, c := range pcpus {
		if c >= 0 && c < vcpus {
			inRange++
		}
	}
	if len(pcpus) == 0 || inRange == vcpus {
		return nil, badTopo("Mixed instance must have at least 1 pinned vCPU and 1 unpinned vCPU. See 'hw:cpu_dedicated_mask'.")
	}
	if inRange != len(pcpus) {
		return nil, badTopo("Mixed instance dedicated vCPU(s) mask is not a subset of vCPUs in the flavor. See \"hw:cpu_dedicated_mask\"")
	}
	return pcpus, nil
}

// parseCPUSpec is nova.virt.hardware.parse_cpu_spec: "1-4,^3,6", exclusions applied last.
func parseCPUSpec(spec string) ([]int, error) {
	in, out := map[int]bool{}, map[int]bool{}
	bad := func(kind, rule string) error { return badTopo("Invalid %s expression %s", kind, pyRepr(rule)) }
	toInt := func(s string) (int, bool) {
		v, ok := pyInt(s)
		if !ok || !v.IsInt64() || v.Int64() > 1<<16 || v.Int64() < -(1<<16) {
			return 0, false
		}
		return int(v.Int64()), true
	}
	for _, rule := range strings.Split(spec, ",") {
		rule = pyStrip(rule)
		if rule == "" {
			continue
		}
		if lo, hi, isRange := strings.Cut(rule, "-"); isRange {
			reject := strings.HasPrefix(lo, "^")
			lo = strings.TrimPrefix(lo, "^")
			a, ok1 := toInt(lo)
			b, ok2 := toInt(hi)
			if !ok1 || !ok2 || a > b {
				return nil, bad("range", rule)
			}
			for c := a; c <= b; c++ {
				if reject {
					out[c] = true
				} else {
					in[c] = true
				}
			}
		} else if rule[0] == '^' {
			c, ok := toInt(rule[1:])
			if !ok {
				return nil, bad("exclusion", rule)
			}
			out[c] = true
		} else {
			c, ok := toInt(rule)
			if !ok {
				return nil, bad("inclusion", rule)
			}
			in[c] = true
		}
	}
	for c := range out {
		delete(in, c)
	}
	return sortedKeys(in), nil
}

// pyRepr renders a string as Python's %r would in the common case (single quotes).
func pyRepr(s string) string {
	if strings.Contains(s, "'") && !strings.Contains(s, `"`) {
		return `"` + s + `"`
	}
	return "'" + strings.ReplaceAll(s, "'", `\'`) + "'"
}

// pageSizeBytes is oslo strutils.string_to_bytes with the IEC unit system.
var pageSizeBytes = regexp.MustCompile(`^[-+]?\d*\.?\d+\s*([KMGT]i?)?(b|bit|B)$`)

func validPageSize(s string) bool {
	switch s {
	case "any", "large", "small":
		return true
	}
	if _, err := strconv.ParseUint(s, 10, 64); err == nil {
		return true
	}
	return pageSizeBytes.MatchString(s)
}

func seq(from, to int) []int {
	out := make([]int, 0, max(0, to-from))
	for i := from; i < to; i++ {
		out = append(out, i)
	}
	return out
}

func sortedKeys(m map[int]bool) []int {
	out := make([]int, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}
