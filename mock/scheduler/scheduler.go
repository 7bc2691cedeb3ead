package scheduler

import (
	"errors"
	"fmt"
	"maps"
	"slices"
	"sync"

	"github.com/hwcert/hwcert/config/vocab"
	"github.com/hwcert/hwcert/mock/lab"
	"github.com/hwcert/hwcert/mock/novaspec"
)

// Options configure a Scheduler.
type Options struct {
	// Faults are added to the lab's own faults (lab.Lab.Faults); names from vocab.Faults
	// (what each does: faults.go).
	Faults []string
}

// Usage is what os-hypervisors reports for a host.
type Usage struct {
	VCPUs, VCPUsUsed       int
	MemoryMB, MemoryMBUsed int
	RunningVMs             int
	// PCIFree and PCITotal count the devices exposed for passthrough ([pci] device_spec).
	PCIFree, PCITotal int
}

// NoValidHostError is returned by Schedule when no host fits. Error() is exactly Nova's fault
// message; Reason says which filter rejected how many hosts (Nova logs that, it does not show it).
type NoValidHostError struct{ Reason string }

func (e *NoValidHostError) Error() string { return ErrNoValidHost.Error() }

// Unwrap makes errors.Is(err, ErrNoValidHost) true.
func (e *NoValidHostError) Unwrap() error { return ErrNoValidHost }

// Scheduler places servers on the lab's hosts and holds their claims. It is safe for concurrent use.
type Scheduler struct {
	mu           sync.Mutex
	lab          *lab.Lab
	hosts        []*hostState // lab order
	byName       map[string]*hostState
	faults       map[string]bool
	ratio        float64
	perGuestNode bool
	claims       map[string]*claim
	scratch      scratch
}

// New builds a scheduler over a validated lab. Unknown fault names are an error.
func New(l *lab.Lab, opts Options) (*Scheduler, error) {
	if l == nil {
		return nil, errors.New("scheduler: nil lab")
	}
	s := &Scheduler{lab: l, byName: map[string]*hostState{}, faults: map[string]bool{}, claims: map[string]*claim{},
		ratio: l.Nova.CPUAllocationRatio, perGuestNode: l.Nova.PCINUMAAffinity == vocab.AffinityPerGuestNode}
	if s.ratio <= 0 {
		s.ratio = 16 // Nova's initial_cpu_allocation_ratio
	}
	for _, f := range append(slices.Clone(l.Faults), opts.Faults...) {
		if err := lab.CheckFault(f); err != nil {
			return nil, fmt.Errorf("scheduler: %w", err)
		}
		s.faults[f] = true
	}
	for i := range l.Hosts {
		h := &l.Hosts[i]
		inv, err := h.Inventory(l.Nova.DeviceSpec)
		if err != nil {
			return nil, fmt.Errorf("scheduler: host %s: %w", h.Name, err)
		}
		if _, dup := s.byName[h.Name]; dup {
			return nil, fmt.Errorf("scheduler: host %s: duplicate host name", h.Name)
		}
		hs := newHostState(inv, s.ratio)
		s.hosts = append(s.hosts, hs)
		s.byName[h.Name] = hs
	}
	for _, f := range slices.Sorted(maps.Keys(s.faults)) {
		if why := s.cannotApply(f); why != "" {
			return nil, fmt.Errorf("fault %s cannot apply to lab %s: %s", f, l.Name, why)
		}
	}
	return s, nil
}

// Inventory returns the expanded host (read-only: the scheduler and its callers share it).
func (s *Scheduler) Inventory(host string) (*lab.HostInventory, bool) {
	h, ok := s.byName[host]
	if !ok {
		return nil, false
	}
	return h.inv, true
}

// Usage returns a host's current usage.
func (s *Scheduler) Usage(host string) (Usage, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	h, ok := s.byName[host]
	if !ok {
		return Usage{}, false
	}
	return Usage{
		VCPUs: len(h.inv.CPUs), VCPUsUsed: h.vcpusUsed,
		MemoryMB: h.memTotal, MemoryMBUsed: h.memUsed,
		RunningVMs: h.running,
		PCIFree:    h.exposedFree, PCITotal: h.exposedTotal,
	}, true
}

// Release frees every claim of a server: devices, pinned pCPUs, memory and vCPU counts.
// Releasing an unknown server does nothing.
func (s *Scheduler) Release(serverID string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	c, ok := s.claims[serverID]
	if !ok {
		return
	}
	delete(s.claims, serverID)
	c.host.unclaim(c)
}

// Schedule places a server and claims what it uses. Bad alias values and invalid NUMA/CPU extra
// specs give the novaspec error types (*novaspec.AliasNotDefinedError,
// *novaspec.MalformedAliasError, *novaspec.InvalidPolicyError, *novaspec.TopologyError); no host
// fitting gives a *NoValidHostError (errors.Is(err, ErrNoValidHost)). Scheduling a server ID that
// already holds claims is an error.
func (s *Scheduler) Schedule(req Request) (*Placement, error) {
	reqs, err := novaspec.PCIRequests(s.lab.Nova.Aliases, req.ExtraSpecs)
	if err != nil {
		return nil, err
	}
	if req.VCPUs <= 0 || req.MemoryMB <= 0 {
		return nil, fmt.Errorf("scheduler: server %s: VCPUs %d, MemoryMB %d: expected positive values", req.ServerID, req.VCPUs, req.MemoryMB)
	}
	if req.VCPUs > novaspec.MaxGuestVCPUs {
		return nil, &NoValidHostError{Reason: fmt.Sprintf("%d vCPUs: more than any host has", req.VCPUs)}
	}
	topo, err := novaspec.GuestTopology(req.VCPUs, req.MemoryMB, req.ExtraSpecs)
	if err != nil {
		return nil, err
	}
	s.ignorePolicy(reqs)
	w := newWant(req, reqs, topo, s.perGuestNode, s.lab.Nova.PackNUMACells)

	s.mu.Lock()
	defer s.mu.Unlock()
	if _, dup := s.claims[req.ServerID]; dup {
		return nil, fmt.Errorf("scheduler: server %s already holds claims; release it first", req.ServerID)
	}
	var rej rejections
	var chosen *hostState
	var p *plan
	for _, h := range s.candidates(req, w) {
		if p = h.fit(w, &s.scratch, &rej); p != nil {
			chosen = h
			break
		}
	}
	if chosen == nil {
		return nil, &NoValidHostError{Reason: rej.String()}
	}
	c := chosen.claim(req.ServerID, w, p)
	s.applyFaults(chosen, w, c)
	s.claims[req.ServerID] = c
	pl := chosen.placement(w, c)
	s.lieInDomain(chosen, c, pl)
	return pl, nil
}

// candidates are the hosts to try, in order: the forced host alone, else the zone's hosts in
// lab order. Like Nova's PCIWeigher, a server without PCI requests tries hosts without free
// passthrough devices first, keeping the devices for the servers that need them.
func (s *Scheduler) candidates(req Request, w *want) []*hostState {
	if req.Host != "" {
		h, ok := s.byName[req.Host]
		if !ok || (req.AvailabilityZone != "" && h.az != req.AvailabilityZone) {
			return nil
		}
		return []*hostState{h}
	}
	out := s.scratch.hosts[:0]
	for _, h := range s.hosts {
		if req.AvailabilityZone == "" || h.az == req.AvailabilityZone {
			out = append(out, h)
		}
	}
	if len(w.reqs) == 0 {
		slices.SortStableFunc(out, func(a, b *hostState) int {
			return boolCmp(a.exposedFree > 0, b.exposedFree > 0)
		})
	}
	s.scratch.hosts = out
	return out
}

func boolCmp(a, b bool) int {
	switch {
	case a == b:
		return 0
	case !a:
		return -1
	}
	return 1
}

// rejections counts, per filter, the hosts it rejected, for NoValidHostError.Reason.
type rejections struct{ compute, ram, pci, numa, hosts int }

func (r rejections) String() string {
	if r.hosts == 0 {
		return "no candidate host (forced host or availability zone matches none)"
	}
	return fmt.Sprintf("%d host(s) tried: %d rejected by ComputeFilter (vCPUs/pCPUs), %d by RAMFilter, %d by PciPassthroughFilter, %d by NUMATopologyFilter",
		r.hosts, r.compute, r.ram, r.pci, r.numa)
}
