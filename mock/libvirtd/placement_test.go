package libvirtd

import (
	"slices"
	"strings"
	"testing"

	"libvirt.org/go/libvirt"
)

// cpusOf turns a libvirt CPU map into the CPU ids it sets.
func cpusOf(m []bool) []int {
	var out []int
	for i, on := range m {
		if on {
			out = append(out, i)
		}
	}
	return out
}

// The placement procedures, through the real client library, agree with the domain XML of
// newSource: the running guest pins vCPUs 0-3 to 1, 9, 4, 12 with memory strict on nodes 0 and 1,
// the shut-off one floats over 0 and 8.
func TestPlacementProcedures(t *testing.T) {
	d := startDaemon(t)
	c := connect(t, d.unixURI)
	lookup := func(name string) *libvirt.Domain {
		dom, err := c.LookupDomainByName(name)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { dom.Free() })
		return dom
	}
	active, inactive := lookup(activeName), lookup(inactiveName)

	cpus, online, err := c.GetCPUMap(0)
	if err != nil || len(cpus) != 16 || online != 16 {
		t.Errorf("GetCPUMap = %d CPUs, %d online, %v; want 16, 16", len(cpus), online, err)
	}
	pins, err := active.GetVcpuPinInfo(libvirt.DOMAIN_AFFECT_LIVE)
	if err != nil || len(pins) != 4 {
		t.Fatalf("GetVcpuPinInfo = %v, %v", pins, err)
	}
	for v, want := range []int{1, 9, 4, 12} {
		if got := cpusOf(pins[v]); !slices.Equal(got, []int{want}) {
			t.Errorf("vCPU %d pinned to %v, want [%d]", v, got, want)
		}
	}
	if emu, err := active.GetEmulatorPinInfo(0); err != nil || !slices.Equal(cpusOf(emu), []int{1, 4, 9, 12}) {
		t.Errorf("GetEmulatorPinInfo = %v, %v", cpusOf(emu), err)
	}
	vcpus, err := active.GetVcpus()
	if err != nil || len(vcpus) != 4 || vcpus[1].Cpu != 9 || vcpus[1].State != int32(libvirt.VCPU_RUNNING) || !slices.Equal(cpusOf(vcpus[2].CpuMap), []int{4}) {
		t.Errorf("GetVcpus = %+v, %v", vcpus, err)
	}
	numa, err := active.GetNumaParameters(0)
	if err != nil || !numa.NodesetSet || numa.Nodeset != "0-1" || !numa.ModeSet || numa.Mode != libvirt.DOMAIN_NUMATUNE_MEM_STRICT {
		t.Errorf("GetNumaParameters = %+v, %v", numa, err)
	}
	if n, err := active.GetVcpusFlags(libvirt.DOMAIN_VCPU_MAXIMUM); err != nil || n != 4 {
		t.Errorf("GetVcpusFlags(maximum) = %d, %v", n, err)
	}
	err = active.PinVcpu(0, []bool{true})
	wantLibvirtError(t, err, libvirt.ERR_OPERATION_UNSUPPORTED, libvirt.FROM_QEMU,
		"Operation not supported: virDomainPinVcpu: the mock lab's placement is fixed by its scheduler")

	if pins, err := inactive.GetVcpuPinInfo(libvirt.DOMAIN_AFFECT_CONFIG); err != nil || !slices.Equal(cpusOf(pins[1]), []int{0, 8}) {
		t.Errorf("shut-off guest's pins = %v, %v; want the shared set 0,8", pins, err)
	}
	_, err = inactive.GetVcpus()
	wantLibvirtError(t, err, libvirt.ERR_OPERATION_INVALID, libvirt.FROM_QEMU,
		"Requested operation is not valid: cannot retrieve vcpu information for inactive domain")
	_, err = inactive.GetVcpuPinInfo(libvirt.DOMAIN_AFFECT_LIVE)
	wantLibvirtError(t, err, libvirt.ERR_OPERATION_INVALID, libvirt.FROM_QEMU, "Requested operation is not valid: domain is not running")
	if numa, err := inactive.GetNumaParameters(0); err != nil || numa.Nodeset != "" {
		t.Errorf("numatune of a guest without one = %+v, %v; want an empty nodeset", numa, err)
	}
}

// Host memory follows the running guest's numatune: 2 GiB off each node of the aio host (16 GiB
// per node); the shut-off guest holds none.
func TestNodeProcedures(t *testing.T) {
	d := startDaemon(t)
	c := connect(t, d.unixURI)
	const node, guestPerNode = 16 << 20, 2 << 20 // KiB
	if free, err := c.GetFreeMemory(); err != nil || free != 2*(node-guestPerNode)*1024 {
		t.Errorf("GetFreeMemory = %d, %v", free, err)
	}
	if cells, err := c.GetCellsFreeMemory(0, 8); err != nil || !slices.Equal(cells, []uint64{(node - guestPerNode) * 1024, (node - guestPerNode) * 1024}) {
		t.Errorf("GetCellsFreeMemory = %v, %v", cells, err)
	}
	_, err := c.GetCellsFreeMemory(2, 1)
	wantLibvirtError(t, err, libvirt.ERR_INTERNAL_ERROR, libvirt.FROM_QEMU, "internal error: start cell 2 out of range (0-1)")
	if m, err := c.GetMemoryStats(-1, 0); err != nil || m.Total != 2*node || m.Free != 2*(node-guestPerNode) || !m.BuffersSet || !m.CachedSet {
		t.Errorf("GetMemoryStats(all) = %+v, %v", m, err)
	}
	if m, err := c.GetMemoryStats(1, 0); err != nil || m.Total != node || m.Free != node-guestPerNode || m.BuffersSet {
		t.Errorf("GetMemoryStats(1) = %+v, %v", m, err)
	}
	_, err = c.GetMemoryStats(2, 0)
	wantLibvirtError(t, err, libvirt.ERR_INVALID_ARG, libvirt.FROM_NONE, "invalid argument: cellNum in virHostMemGetStats must be less than or equal to 1")
	if s, err := c.GetCPUStats(3, 0); err != nil || !s.KernelSet || !s.UserSet || !s.IdleSet || !s.IowaitSet {
		t.Errorf("GetCPUStats(3) = %+v, %v", s, err)
	}
	_, err = c.GetCPUStats(16, 0)
	wantLibvirtError(t, err, libvirt.ERR_INVALID_ARG, libvirt.FROM_NONE, "invalid argument: Invalid cpuNum in virHostCPUGetStatsLinux")
	if x, err := c.GetSysinfo(0); err != nil || strings.Count(x, "<processor>") != 2 || strings.Count(x, "<memory_device>") != 2 {
		t.Errorf("GetSysinfo = %v\n%s", err, x)
	}
	if x, err := c.GetDomainCapabilities("", "", "q35", "kvm", 0); err != nil || !strings.Contains(x, "<vcpu max='288'/>") || !strings.Contains(x, "<value>vfio</value>") {
		t.Errorf("GetDomainCapabilities(q35) = %v\n%s", err, x)
	}
	_, err = c.GetDomainCapabilities("", "", "virt", "", 0)
	wantLibvirtError(t, err, libvirt.ERR_INVALID_ARG, libvirt.FROM_QEMU,
		"invalid argument: the machine 'virt' is not supported by emulator '/usr/bin/qemu-system-x86_64'")
	if pools, err := c.ListAllStoragePools(0); err != nil || len(pools) != 0 {
		t.Errorf("ListAllStoragePools = %d, %v", len(pools), err)
	}
	if nets, err := c.ListAllNetworks(0); err != nil || len(nets) != 0 {
		t.Errorf("ListAllNetworks = %d, %v", len(nets), err)
	}
}

func TestDomainStatsProcedures(t *testing.T) {
	d := startDaemon(t)
	c := connect(t, d.unixURI)
	dom, err := c.LookupDomainByName(activeName)
	if err != nil {
		t.Fatal(err)
	}
	defer dom.Free()
	mem, err := dom.MemoryStats(16, 0)
	if err != nil || len(mem) != 3 || mem[0].Tag != int32(libvirt.DOMAIN_MEMORY_STAT_ACTUAL_BALLOON) || mem[0].Val != 4<<20 {
		t.Errorf("MemoryStats = %+v, %v", mem, err)
	}
	stats, err := c.GetAllDomainStats(nil, 0, 0)
	if err != nil || len(stats) != 2 {
		t.Fatalf("GetAllDomainStats = %d records, %v", len(stats), err)
	}
	defer func() {
		for _, s := range stats {
			s.Domain.Free()
		}
	}()
	run := stats[0]
	if name, _ := run.Domain.GetName(); name != activeName || run.State == nil || run.State.State != libvirt.DOMAIN_RUNNING ||
		len(run.Vcpu) != 4 || !run.Vcpu[3].StateSet || run.Balloon == nil || run.Balloon.Current != 4<<20 ||
		len(run.Block) != 1 || run.Block[0].Name != "vda" || run.DirtyRate == nil || run.DirtyRate.CalcMode != "page-sampling" {
		t.Errorf("running guest's stats = %+v", run)
	}
	if off := stats[1]; off.State == nil || off.State.State != libvirt.DOMAIN_SHUTOFF || off.Cpu != nil || len(off.Vcpu) != 2 || off.Vcpu[0].TimeSet {
		t.Errorf("shut-off guest's stats = %+v", off)
	}
	only, err := c.GetAllDomainStats([]*libvirt.Domain{dom}, libvirt.DOMAIN_STATS_VCPU, 0)
	if err != nil || len(only) != 1 || only[0].State != nil || len(only[0].Vcpu) != 4 {
		t.Errorf("vcpu stats of one guest = %+v, %v", only, err)
	}
	for _, s := range only {
		s.Domain.Free()
	}
	running, err := c.GetAllDomainStats(nil, libvirt.DOMAIN_STATS_STATE, libvirt.CONNECT_GET_ALL_DOMAINS_STATS_RUNNING)
	if err != nil || len(running) != 1 {
		t.Errorf("stats of running guests = %d, %v", len(running), err)
	}
	for _, s := range running {
		s.Domain.Free()
	}
}
