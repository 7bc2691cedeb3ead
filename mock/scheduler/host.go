package scheduler

import (
	"slices"
	"strings"

	"github.com/hwcert/hwcert/config/vocab"
	"github.com/hwcert/hwcert/mock/lab"
	"github.com/hwcert/hwcert/mock/novaspec"
)

// hostState is one compute host with its free resources, as Nova's HostState, NUMATopology
// (cells with pinned CPUs and memory usage) and PciDeviceStats (pools) together.
type hostState struct {
	inv      *lab.HostInventory
	name, az string
	nodes    []*nodeState // in the host's node order
	pinned   []bool       // by CPU id
	owner    []string     // by device index: the server holding it, "" when free
	blocked  []int        // by device index: how many of its relatives (PF, VFs) are held
	family   [][]int      // by device index: its PF, or its VFs
	devPool  []int        // by device index: its pool, -1 for a device that is not exposed
	pools    []*pool
	shared   []int // the host's cpu_shared_set, sorted
	byAddr   map[lab.Address]int

	exposedFree, exposedTotal int
	vcpuCap                   float64 // shared vCPUs the host takes: |cpu_shared_set| x cpu_allocation_ratio
	sharedUsed                int     // shared (floating) vCPUs placed
	vcpusUsed                 int     // every vCPU placed, as os-hypervisors counts them
	memTotal, memUsed         int
	pcpuFree                  int
	running                   int
	ratio                     float64
	// socketless is true when some node has no socket (its CPUs span sockets).
	socketless bool
}

// nodeState is one host NUMA cell.
type nodeState struct {
	id, socket        int
	memTotal, memUsed int // memUsed counts guests with a NUMA topology only, as Nova's cells do
	shared            []int
	cores             [][]int // per physical core, its CPUs in cpu_dedicated_set (thread siblings)
	dedicatedTotal    int
	pcpuFree          int
	sharedUsed        int // shared vCPUs of NUMA guests on this cell
}

// pool is Nova's PCI device pool: exposed devices with the same vendor, product, type and NUMA
// node. Pools are kept in the order of their first device's address, as Nova creates them.
type pool struct {
	vendor, product, typ string
	hasNode              bool
	node                 int
	devs                 []int // device indexes in address order
	free                 int
}

func newHostState(inv *lab.HostInventory, ratio float64) *hostState {
	h := &hostState{inv: inv, name: inv.Host.Name, az: inv.Host.AvailabilityZone, ratio: ratio}
	maxCPU := 0
	for _, c := range inv.CPUs {
		maxCPU = max(maxCPU, c.ID)
	}
	h.pinned = make([]bool, maxCPU+1)
	for id := range inv.Shared {
		h.shared = append(h.shared, id)
	}
	slices.Sort(h.shared)
	h.vcpuCap = float64(len(h.shared)) * ratio
	for _, n := range inv.Host.NUMANodes {
		ns := &nodeState{id: n.ID, socket: n.Socket, memTotal: n.MemoryMB}
		if n.Spans() {
			ns.socket = noSocket
			h.socketless = true
		}
		h.memTotal += n.MemoryMB
		seenCore := map[int]bool{}
		for _, c := range inv.CPUs {
			if c.Node != n.ID {
				continue
			}
			if inv.Shared[c.ID] {
				ns.shared = append(ns.shared, c.ID)
			}
			if seenCore[c.Siblings[0]] {
				continue
			}
			seenCore[c.Siblings[0]] = true
			var core []int
			for _, sib := range c.Siblings {
				if inv.Dedicated[sib] {
					core = append(core, sib)
				}
			}
			if len(core) > 0 {
				ns.cores = append(ns.cores, core)
				ns.dedicatedTotal += len(core)
			}
		}
		ns.pcpuFree = ns.dedicatedTotal
		h.pcpuFree += ns.dedicatedTotal
		h.nodes = append(h.nodes, ns)
	}
	h.owner = make([]string, len(inv.Devices))
	h.blocked = make([]int, len(inv.Devices))
	h.family = make([][]int, len(inv.Devices))
	h.devPool = make([]int, len(inv.Devices))
	h.byAddr = make(map[lab.Address]int, len(inv.Devices))
	for i := range inv.Devices {
		d := &inv.Devices[i]
		h.byAddr[d.Address] = i
		h.devPool[i] = -1
		if !d.Exposed {
			continue
		}
		h.exposedTotal++
		pi := -1
		for j, p := range h.pools {
			if p.vendor == d.VendorID && p.product == d.ProductID && p.typ == d.Type && sameNode(p, d.NUMANode) {
				pi = j
				break
			}
		}
		if pi < 0 {
			p := &pool{vendor: d.VendorID, product: d.ProductID, typ: d.Type}
			if d.NUMANode != nil {
				p.hasNode, p.node = true, *d.NUMANode
			}
			h.pools = append(h.pools, p)
			pi = len(h.pools) - 1
		}
		h.pools[pi].devs = append(h.pools[pi].devs, i)
		h.pools[pi].free++
		h.devPool[i] = pi
	}
	h.exposedFree = h.exposedTotal
	for i := range inv.Devices {
		d := &inv.Devices[i]
		if d.Parent == nil {
			continue
		}
		if pf, ok := h.byAddr[*d.Parent]; ok {
			h.family[i] = append(h.family[i], pf)
			h.family[pf] = append(h.family[pf], i)
		}
	}
	return h
}

func sameNode(p *pool, n *int) bool {
	if n == nil {
		return !p.hasNode
	}
	return p.hasNode && p.node == *n
}

func (h *hostState) nodeByID(id int) *nodeState {
	for _, n := range h.nodes {
		if n.id == id {
			return n
		}
	}
	return nil
}

// want is one server's demand, derived once per Schedule call.
type want struct {
	serverID     string
	vcpus, mem   int
	reqs         []novaspec.PCIRequest
	wantsPF      []bool // per request: some alias entry asks type-PF explicitly
	topo         *novaspec.Topology
	sharedVCPUs  int // vCPUs that float (consume the host's VCPU inventory)
	pinnedVCPUs  int // vCPUs pinned 1:1 (consume PCPU), plus the isolated emulator thread
	perGuestNode bool
	pack         bool // packing_host_numa_cells_allocation_strategy
}

func newWant(req Request, reqs []novaspec.PCIRequest, topo *novaspec.Topology, perGuestNode, pack bool) *want {
	w := &want{serverID: req.ServerID, vcpus: req.VCPUs, mem: req.MemoryMB, reqs: reqs, topo: topo, perGuestNode: perGuestNode, pack: pack}
	for _, r := range reqs {
		pf := false
		for _, s := range r.Specs {
			pf = pf || s.DeviceType == vocab.TypePF
		}
		w.wantsPF = append(w.wantsPF, pf)
	}
	if topo == nil {
		w.sharedVCPUs = req.VCPUs
		return w
	}
	for _, c := range topo.Cells {
		w.sharedVCPUs += len(c.Shared)
		w.pinnedVCPUs += len(c.Dedicated)
	}
	if topo.EmulatorThreadsIsolate {
		w.pinnedVCPUs++
	}
	return w
}

// take is part of a PCI plan: n devices of pool for request req.
type take struct{ req, pool, n int }

// cellFit is how a guest cell fits a host node: the pCPUs of its dedicated vCPUs (index for
// index), every CPU it claims (with siblings an isolate policy keeps empty) and the emulator pCPU.
type cellFit struct {
	ok       bool
	pcpus    []int
	claimed  []int
	emulator []int
}

// plan is a successful fit on a host, before claiming.
type plan struct {
	takes []take
	nodes []int // per guest cell: index into hostState.nodes
	fits  []cellFit
}

// scratch holds buffers reused across hosts (the scheduler's mutex guards them).
type scratch struct {
	hosts   []*hostState
	free    []int
	cands   []int
	tmp     []int
	takes   []take
	covered []bool
	order   []int
	perm    []int
	used    []bool
	cache   []cellFit
	cached  []bool
}

// fit decides whether the server fits on the host, as Nova's ComputeFilter/RAMFilter,
// PciPassthroughFilter and NUMATopologyFilter do in turn, and returns the plan or nil.
func (h *hostState) fit(w *want, sc *scratch, rej *rejections) *plan {
	rej.hosts++
	sc.takes = sc.takes[:0] // a server without PCI requests takes nothing
	if (w.sharedVCPUs > 0 && float64(h.sharedUsed+w.sharedVCPUs) > h.vcpuCap) || w.pinnedVCPUs > h.pcpuFree {
		rej.compute++
		return nil
	}
	if h.memUsed+w.mem > h.memTotal {
		rej.ram++
		return nil
	}
	// PciPassthroughFilter: the requests on their own, NUMA not considered.
	if len(w.reqs) > 0 && !h.pciApply(w, nil, sc) {
		rej.pci++
		return nil
	}
	if w.topo == nil {
		return &plan{takes: slices.Clone(sc.takes)}
	}
	if p := h.numaFit(w, sc); p != nil {
		return p
	}
	rej.numa++
	return nil
}

// numaFit is numa_fit_instance_to_host: order the host cells, try every permutation of distinct
// host cells for the guest cells, and take the first where every cell fits and the PCI requests
// can be met with the policy's NUMA affinity.
func (h *hostState) numaFit(w *want, sc *scratch) *plan {
	cells := w.topo.Cells
	if len(h.nodes) < len(cells) {
		return nil
	}
	order := sc.order[:0]
	for i := range h.nodes {
		order = append(order, i)
	}
	if len(h.nodes) > len(cells) {
		h.sortCells(order, w)
	}
	sc.order = order
	// Fit results per (host node, guest cell, with emulator reserve or not), computed lazily.
	n := len(h.nodes) * len(cells) * 2
	if cap(sc.cache) < n {
		sc.cache = make([]cellFit, n)
		sc.cached = make([]bool, n)
	}
	sc.cache, sc.cached = sc.cache[:n], sc.cached[:n]
	clear(sc.cached)
	cellFitAt := func(node, cell int) *cellFit {
		reserve := 0
		if cell == 0 && w.topo.EmulatorThreadsIsolate {
			reserve = 1
		}
		k := (node*len(cells)+cell)*2 + reserve
		if !sc.cached[k] {
			sc.cache[k] = h.nodes[node].fitCell(h, w.topo, cells[cell], reserve)
			sc.cached[k] = true
		}
		return &sc.cache[k]
	}
	if cap(sc.used) < len(h.nodes) {
		sc.used = make([]bool, len(h.nodes))
	}
	used := sc.used[:len(h.nodes)]
	clear(used)
	perm := sc.perm[:0]
	hostNodes := make([]int, 0, len(cells))
	var found *plan
	var try func(cell int) bool
	try = func(cell int) bool {
		if cell == len(cells) {
			hostNodes = hostNodes[:0]
			for _, ni := range perm {
				hostNodes = append(hostNodes, h.nodes[ni].id)
			}
			if len(w.reqs) > 0 && !h.pciApply(w, hostNodes, sc) {
				return false
			}
			p := &plan{takes: slices.Clone(sc.takes), nodes: slices.Clone(perm)}
			for ci, ni := range perm {
				p.fits = append(p.fits, *cellFitAt(ni, ci))
			}
			found = p
			return true
		}
		for _, ni := range order {
			if used[ni] || !cellFitAt(ni, cell).ok {
				continue
			}
			used[ni] = true
			perm = append(perm, ni)
			if try(cell + 1) {
				return true
			}
			perm = perm[:len(perm)-1]
			used[ni] = false
		}
		return false
	}
	try(0)
	sc.perm = perm[:0]
	return found
}

// sortCells orders host cells as Nova does when the guest needs fewer cells than the host has.
// Spread (packing_host_numa_cells_allocation_strategy=False): most free memory first, then least
// used shared CPUs (or most free pCPUs for pinned guests); pack reverses both. Then — the primary
// key — cells with the most free PCI devices first when the guest requests PCI, last when it
// does not. Every sort is stable, as Python's sorted is, reversed or not.
func (h *hostState) sortCells(order []int, w *want) {
	dir := 1
	if w.pack {
		dir = -1
	}
	slices.SortStableFunc(order, func(a, b int) int {
		return dir * ((h.nodes[b].memTotal - h.nodes[b].memUsed) - (h.nodes[a].memTotal - h.nodes[a].memUsed))
	})
	if w.topo.CPUPolicy == vocab.CPUShared {
		slices.SortStableFunc(order, func(a, b int) int { return dir * (h.nodes[a].sharedUsed - h.nodes[b].sharedUsed) })
	} else {
		slices.SortStableFunc(order, func(a, b int) int { return dir * (h.nodes[b].pcpuFree - h.nodes[a].pcpuFree) })
	}
	if len(h.pools) == 0 {
		return
	}
	freeOn := func(ni int) int {
		n := 0
		for _, p := range h.pools {
			if p.hasNode && p.node == h.nodes[ni].id {
				n += p.free
			}
		}
		return n
	}
	if len(w.reqs) > 0 {
		slices.SortStableFunc(order, func(a, b int) int { return freeOn(b) - freeOn(a) })
	} else {
		slices.SortStableFunc(order, func(a, b int) int { return freeOn(a) - freeOn(b) })
	}
}

// fitCell is _numa_fit_instance_cell: memory without overcommit, the shared vCPUs within the
// cell's shared CPUs x allocation ratio, and one free dedicated pCPU per pinned vCPU (plus the
// emulator thread's when reserve is 1), chosen by the thread policy.
func (n *nodeState) fitCell(h *hostState, t *novaspec.Topology, c novaspec.GuestCell, reserve int) cellFit {
	if n.memTotal-n.memUsed < c.MemoryMB {
		return cellFit{}
	}
	if len(c.Shared) > 0 {
		if len(c.Shared) > len(n.shared) || float64(n.sharedUsed+len(c.Shared)) > float64(len(n.shared))*h.ratio {
			return cellFit{}
		}
	}
	need := len(c.Dedicated) + reserve
	if need == 0 {
		return cellFit{ok: true}
	}
	if need > n.pcpuFree {
		return cellFit{}
	}
	return n.pin(h, need, len(c.Dedicated), t.ThreadPolicy)
}

// pin chooses pCPUs for need vCPUs (the last need-vcpus of them for the emulator thread).
// prefer (default): fill the cores with the most free threads first, so siblings stay together;
// require: the same, on cores with thread siblings only (none on the host: no fit);
// isolate: one whole free core per vCPU, its other threads claimed and left idle.
func (n *nodeState) pin(h *hostState, need, vcpus int, policy string) cellFit {
	type coreFree struct {
		i    int
		free []int
	}
	var cores []coreFree
	for i, core := range n.cores {
		var free []int
		for _, c := range core {
			if !h.pinned[c] {
				free = append(free, c)
			}
		}
		if len(free) == 0 {
			continue
		}
		switch policy {
		case novaspec.ThreadIsolate:
			if len(free) != len(core) {
				continue
			}
		case novaspec.ThreadRequire:
			if len(core) < 2 {
				continue
			}
		}
		cores = append(cores, coreFree{i, free})
	}
	f := cellFit{ok: true}
	if policy == novaspec.ThreadIsolate {
		if len(cores) < need {
			return cellFit{}
		}
		for k := 0; k < need; k++ {
			cpu := cores[k].free[0]
			if k < vcpus {
				f.pcpus = append(f.pcpus, cpu)
			} else {
				f.emulator = append(f.emulator, cpu)
			}
			f.claimed = append(f.claimed, cores[k].free...)
		}
		return f
	}
	slices.SortStableFunc(cores, func(a, b coreFree) int { return len(b.free) - len(a.free) })
	for _, c := range cores {
		for _, cpu := range c.free {
			if len(f.claimed) == need {
				break
			}
			f.claimed = append(f.claimed, cpu)
		}
	}
	if len(f.claimed) < need {
		return cellFit{}
	}
	f.pcpus = slices.Clone(f.claimed[:vcpus])
	f.emulator = slices.Clone(f.claimed[vcpus:])
	return f
}

// pciApply is PciDeviceStats.support_requests/apply_requests on a copy of the pool counts: every
// request in order, each filtered by spec, then NUMA affinity (when hostNodes is not nil), then
// unrequested PFs, consuming from the pools that remain. The plan is left in sc.takes.
func (h *hostState) pciApply(w *want, hostNodes []int, sc *scratch) bool {
	free := sc.free[:0]
	for _, p := range h.pools {
		free = append(free, p.free)
	}
	sc.free = free
	sc.takes = sc.takes[:0]
	checkCover := w.perGuestNode && hostNodes != nil
	var covered []bool
	needCover := false
	if checkCover {
		covered = sc.covered[:0]
		for range hostNodes {
			covered = append(covered, false)
		}
		sc.covered = covered
	}
	for ri, r := range w.reqs {
		if r.Count <= 0 {
			continue
		}
		cands := sc.cands[:0]
		total := 0
		for pi, p := range h.pools {
			if free[pi] > 0 && p.matches(r.Specs) {
				cands = append(cands, pi)
				total += free[pi]
			}
		}
		if total < r.Count {
			sc.cands = cands
			return false
		}
		if hostNodes != nil {
			cands = h.filterNUMA(cands, free, r, hostNodes, sc)
			if sum(cands, free) < r.Count {
				sc.cands = cands
				return false
			}
		}
		if !w.wantsPF[ri] {
			cands = slices.DeleteFunc(cands, func(pi int) bool { return h.pools[pi].typ == vocab.TypePF })
			if sum(cands, free) < r.Count {
				sc.cands = cands
				return false
			}
		}
		left := r.Count
		strictCover := checkCover && (r.Policy == vocab.PolicyRequired || r.Policy == vocab.PolicyLegacy || r.Policy == vocab.PolicySocket)
		if strictCover {
			needCover = true
			// Per-guest-node reading: first one device for each guest node not yet covered.
			for gi, node := range hostNodes {
				if covered[gi] || left == 0 {
					continue
				}
				for _, pi := range cands {
					if free[pi] > 0 && h.covers(h.pools[pi], node, r.Policy) {
						free[pi]--
						left--
						sc.takes = append(sc.takes, take{ri, pi, 1})
						h.markCovered(covered, hostNodes, h.pools[pi], r.Policy)
						break
					}
				}
			}
		}
		for _, pi := range cands {
			if left == 0 {
				break
			}
			n := min(free[pi], left)
			if n == 0 {
				continue
			}
			free[pi] -= n
			left -= n
			sc.takes = append(sc.takes, take{ri, pi, n})
			if strictCover {
				h.markCovered(covered, hostNodes, h.pools[pi], r.Policy)
			}
		}
		sc.cands = cands
	}
	if needCover && slices.Contains(covered, false) {
		return false
	}
	return true
}

func sum(cands, free []int) int {
	t := 0
	for _, pi := range cands {
		t += free[pi]
	}
	return t
}

// matches reports whether the pool's devices match any of the alias entries (ORed).
func (p *pool) matches(specs []lab.Alias) bool {
	for _, s := range specs {
		if (s.VendorID == "" || strings.EqualFold(s.VendorID, p.vendor)) &&
			(s.ProductID == "" || strings.EqualFold(s.ProductID, p.product)) &&
			(s.DeviceType == "" || s.DeviceType == p.typ) {
			return true
		}
	}
	return false
}

// filterNUMA is _filter_pools_for_numa_cells. Whatever the policy, if the pools strictly local to
// the guest's host nodes hold enough devices, only those are used. Otherwise: required keeps
// them anyway (and fails); socket keeps pools on a node of the same socket as any guest node
// (never one without NUMA information); legacy adds pools without NUMA information; preferred
// does too if that is enough, else keeps every pool, local and unknown ones first.
func (h *hostState) filterNUMA(cands, free []int, r novaspec.PCIRequest, hostNodes []int, sc *scratch) []int {
	strict := sc.tmp[:0]
	for _, pi := range cands {
		if p := h.pools[pi]; p.hasNode && slices.Contains(hostNodes, p.node) {
			strict = append(strict, pi)
		}
	}
	sc.tmp = strict
	if r.Policy == vocab.PolicyRequired || sum(strict, free) >= r.Count {
		return append(cands[:0], strict...)
	}
	if r.Policy == vocab.PolicySocket {
		if h.socketless {
			// _filter_pools_for_socket_affinity: no socket information in some host cell.
			return cands[:0]
		}
		return slices.DeleteFunc(cands, func(pi int) bool {
			p := h.pools[pi]
			if !p.hasNode {
				return true
			}
			for _, hn := range hostNodes {
				if h.sameSocket(p.node, hn) {
					return false
				}
			}
			return true
		})
	}
	loose := sc.tmp[:0]
	for _, pi := range cands {
		if p := h.pools[pi]; !p.hasNode || slices.Contains(hostNodes, p.node) {
			loose = append(loose, pi)
		}
	}
	sc.tmp = loose
	if r.Policy == vocab.PolicyLegacy || sum(loose, free) >= r.Count {
		return append(cands[:0], loose...)
	}
	// preferred: everything, affine (or unknown) pools first.
	slices.SortStableFunc(cands, func(a, b int) int {
		pa, pb := h.pools[a], h.pools[b]
		return boolCmp(pa.hasNode && !slices.Contains(hostNodes, pa.node), pb.hasNode && !slices.Contains(hostNodes, pb.node))
	})
	return cands
}

func (h *hostState) sameSocket(a, b int) bool {
	na, nb := h.nodeByID(a), h.nodeByID(b)
	return na != nil && nb != nil && na.socket != noSocket && na.socket == nb.socket
}

// noSocket is the socket of a node whose CPUs span several sockets: Nova gives it none.
const noSocket = -1

// covers is the per-guest-node reading of affinity: a device serves a guest node when it is on
// that node's host node (required), on it or without NUMA information (legacy: such a device is
// usable from any node), or on the same socket (socket).
func (h *hostState) covers(p *pool, node int, policy string) bool {
	switch policy {
	case vocab.PolicyLegacy:
		return !p.hasNode || p.node == node
	case vocab.PolicySocket:
		return p.hasNode && h.sameSocket(p.node, node)
	default:
		return p.hasNode && p.node == node
	}
}

func (h *hostState) markCovered(covered []bool, hostNodes []int, p *pool, policy string) {
	for gi, node := range hostNodes {
		if !covered[gi] && h.covers(p, node, policy) {
			covered[gi] = true
		}
	}
}
