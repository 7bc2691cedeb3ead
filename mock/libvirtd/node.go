package libvirtd

import (
	"slices"
	"time"

	"github.com/hwcert/hwcert/mock/render"
)

// The host-wide procedures behind `virsh freecell`, `nodememstats`, `nodecpustats`, `sysinfo`,
// `domcapabilities`, `maxvcpus`, `pool-list` and `net-list`. Memory follows the placement of the
// running domains (their numatune in the XML); CPU time is idle time since the daemon started,
// since the mock's guests execute nothing.

const (
	nodeMaxCells = 1024 // REMOTE_NODE_MAX_CELLS
	nodeStatsMax = 16   // REMOTE_NODE_CPU_STATS_MAX, REMOTE_NODE_MEMORY_STATS_MAX
	allCells     = -1   // VIR_NODE_MEMORY_STATS_ALL_CELLS
	allCPUs      = -1   // VIR_NODE_CPU_STATS_ALL_CPUS
)

// nodeMemory is each host NUMA node's total and free memory in KiB, in node order.
type nodeMemory struct {
	ids         []int
	total, free map[int]uint64
}

// memory subtracts the running domains' memory from the host's: a domain with a numatune on the
// nodes its XML names, one without spread evenly over every node (the kernel's interleaving of a
// guest that was never told where to live).
func (s *session) memory() nodeMemory {
	m := nodeMemory{total: map[int]uint64{}, free: map[int]uint64{}}
	if s.srv.inv == nil || s.srv.inv.Host == nil {
		return m
	}
	for _, n := range s.srv.inv.Host.NUMANodes {
		m.ids = append(m.ids, n.ID)
		m.total[n.ID] = uint64(n.MemoryMB) * 1024
	}
	slices.Sort(m.ids)
	used := map[int]uint64{}
	for _, dom := range s.domains() {
		if !dom.Active {
			continue
		}
		t, err := s.tuningOf(&dom)
		if err != nil {
			s.log.Warn("domain XML gives no placement; leaving its memory out of the free memory", "domain", dom.Name, "err", err.Message)
			continue
		}
		if t.nodeMemKiB != nil {
			for n, kib := range t.nodeMemKiB {
				used[n] += kib
			}
			continue
		}
		for i, n := range m.ids {
			share := t.memKiB / uint64(len(m.ids))
			if i == 0 {
				share += t.memKiB % uint64(len(m.ids))
			}
			used[n] += share
		}
	}
	for _, n := range m.ids {
		m.free[n] = m.total[n] - min(m.total[n], used[n])
	}
	return m
}

func (m nodeMemory) sum(of map[int]uint64) uint64 {
	var t uint64
	for _, v := range of {
		t += v
	}
	return t
}

func (s *session) nodeGetFreeMemory(d *decoder, e *encoder) *rpcError {
	if err := done(d); err != nil {
		return err
	}
	m := s.memory()
	e.uint64(m.sum(m.free) * 1024) // bytes
	return nil
}

func (s *session) nodeGetCellsFreeMemory(d *decoder, e *encoder) *rpcError {
	start := d.int32()
	maxCells := d.int32()
	if err := done(d); err != nil {
		return err
	}
	if maxCells > nodeMaxCells {
		return &rpcError{errRPC, fromRPC, "RPC error: maxCells > REMOTE_NODE_MAX_CELLS"}
	}
	m := s.memory()
	last := len(m.ids) - 1
	if start < 0 || int(start) > last {
		return errInternalf("start cell %d out of range (0-%d)", start, last)
	}
	var cells []uint64
	for i := int(start); i <= last && len(cells) < int(maxCells); i++ {
		cells = append(cells, m.free[m.ids[i]]*1024)
	}
	encodeArray(e, cells, (*encoder).uint64)
	return nil
}

// nodeStat is remote_node_get_cpu_stats / remote_node_get_memory_stats: a field and its value.
type nodeStat struct {
	field string
	value uint64
}

func encodeNodeStat(e *encoder, st nodeStat) {
	e.string(st.field)
	e.uint64(st.value)
}

// encodeNodeStats answers the two node stats procedures: the count alone when the client asks
// with nparams 0, else at most nparams stats, then how many there are.
func encodeNodeStats(e *encoder, nparams int32, stats []nodeStat) *rpcError {
	if nparams < 0 || nparams > nodeStatsMax {
		return &rpcError{errRPC, fromRPC, "RPC error: nparams too large"}
	}
	if nparams == 0 {
		encodeArray(e, []nodeStat(nil), encodeNodeStat)
		e.int32(int32(len(stats)))
		return nil
	}
	if int(nparams) < len(stats) {
		return errInvalid(fromNone, "nparams in virHostCPUGetStats must be %d", len(stats))
	}
	encodeArray(e, stats, encodeNodeStat)
	e.int32(int32(len(stats)))
	return nil
}

func (s *session) nodeGetMemoryStats(d *decoder, e *encoder) *rpcError {
	nparams := d.int32()
	cell := d.int32()
	flags := d.uint32()
	if err := done(d); err != nil {
		return err
	}
	if flags != 0 {
		return errFlags(fromQEMU, flags, "qemuNodeGetMemoryStats")
	}
	m := s.memory()
	var stats []nodeStat
	switch {
	case cell == allCells:
		// /proc/meminfo: the mock host has no page cache or buffers to report.
		stats = []nodeStat{{"total", m.sum(m.total)}, {"free", m.sum(m.free)}, {"buffers", 0}, {"cached", 0}}
	case cell >= 0 && int(cell) < len(m.ids):
		n := m.ids[cell]
		stats = []nodeStat{{"total", m.total[n]}, {"free", m.free[n]}}
	default:
		return errInvalid(fromNone, "cellNum in virHostMemGetStats must be less than or equal to %d", len(m.ids)-1)
	}
	return encodeNodeStats(e, nparams, stats)
}

func (s *session) nodeGetCPUStats(d *decoder, e *encoder) *rpcError {
	cpu := d.int32()
	nparams := d.int32()
	flags := d.uint32()
	if err := done(d); err != nil {
		return err
	}
	if flags != 0 {
		return errFlags(fromQEMU, flags, "qemuNodeGetCPUStats")
	}
	cpus := s.srv.hostCPUs()
	if cpu != allCPUs && !slices.Contains(cpus, int(cpu)) {
		return errInvalid(fromNone, "Invalid cpuNum in virHostCPUGetStatsLinux")
	}
	// Rounded to what /proc/stat resolves (USER_HZ), as libvirt reports it.
	idle := uint64(time.Since(s.srv.started) / (10 * time.Millisecond) * (10 * time.Millisecond))
	if cpu == allCPUs {
		idle *= uint64(len(cpus))
	}
	return encodeNodeStats(e, nparams, []nodeStat{{"kernel", 0}, {"user", 0}, {"idle", idle}, {"iowait", 0}})
}

func (s *session) getSysinfo(d *decoder, e *encoder) *rpcError {
	flags := d.uint32()
	if err := done(d); err != nil {
		return err
	}
	if flags != 0 {
		return errFlags(fromQEMU, flags, "qemuConnectGetSysinfo")
	}
	x, err := render.SysinfoXML(s.srv.inv)
	if err != nil {
		return errInternalf("cannot render sysinfo: %v", err)
	}
	e.string(x)
	return nil
}

func (s *session) getDomainCapabilities(d *decoder, e *encoder) *rpcError {
	emulator := d.optString(stringMax)
	arch := d.optString(stringMax)
	machine := d.optString(stringMax)
	virttype := d.optString(stringMax)
	flags := d.uint32()
	if err := done(d); err != nil {
		return err
	}
	if flags != 0 {
		return errFlags(fromQEMU, flags, "qemuConnectGetDomainCapabilities")
	}
	q := render.DomainCapsQuery{}
	for _, f := range []struct {
		from *string
		to   *string
	}{{emulator, &q.Emulator}, {arch, &q.Arch}, {machine, &q.Machine}, {virttype, &q.VirtType}} {
		if f.from != nil {
			*f.to = *f.from
		}
	}
	x, err := render.DomainCapabilitiesXML(q)
	if err != nil {
		return errInvalid(fromQEMU, "%v", err)
	}
	e.string(x)
	return nil
}

// listAllEmpty answers ConnectListAllStoragePools and ConnectListAllNetworks: a Nova compute host
// keeps its instance disks as files and its networking in Neutron's agents, with no libvirt pool
// or network defined. supported are the procedure's filter flags.
func listAllEmpty(supported uint32, from int32, function string) func(*session, *decoder, *encoder) *rpcError {
	return func(_ *session, d *decoder, e *encoder) *rpcError {
		need := d.int32()
		flags := d.uint32()
		if err := done(d); err != nil {
			return err
		}
		if bad := flags &^ supported; bad != 0 {
			return errFlags(from, bad, function)
		}
		_ = need // with or without the items, the answer is an empty array and a count of 0
		e.uint32(0)
		e.uint32(0)
		return nil
	}
}

// VIR_CONNECT_LIST_STORAGE_POOLS_* (bits 0-18 in libvirt 9.0) and VIR_CONNECT_LIST_NETWORKS_*.
const (
	listPoolsAll    = 1<<19 - 1
	listNetworksAll = 1<<6 - 1
)

var (
	listAllStoragePools = listAllEmpty(listPoolsAll, fromStorage, "storageConnectListAllStoragePools")
	listAllNetworks     = listAllEmpty(listNetworksAll, fromNetwork, "networkConnectListAllNetworks")
)

// errNotRunning is virDomainObjCheckActive's error.
func errNotRunning() *rpcError {
	return &rpcError{errOperationInvalid, fromQEMU, "Requested operation is not valid: domain is not running"}
}
