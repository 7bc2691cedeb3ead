package libvirtd

import (
	"fmt"
	"strconv"
)

// `virsh dommemstat` and `virsh domstats`: the statistics libvirt 9.0 reports for a QEMU guest,
// computed from the domain's XML. The mock's guests execute nothing, so every counter of work
// done (CPU time, disk requests) is 0; sizes and placement are the real ones.

// virDomainMemoryStatTags the QEMU driver reports for a guest without a balloon driver answering.
const (
	memStatActualBalloon = 6
	memStatRSS           = 7
	memStatLastUpdate    = 9
	memoryStatsMax       = 1024 // REMOTE_DOMAIN_MEMORY_STATS_MAX
)

func (s *session) domainMemoryStats(d *decoder, e *encoder) *rpcError {
	name, uuid := s.domainArg(d)
	maxStats := d.uint32()
	flags := d.uint32()
	if err := done(d); err != nil {
		return err
	}
	if maxStats > memoryStatsMax {
		return &rpcError{errRPC, fromRPC, "RPC error: maxStats > REMOTE_DOMAIN_MEMORY_STATS_MAX"}
	}
	if flags != 0 {
		return errFlags(fromQEMU, flags, "qemuDomainMemoryStats")
	}
	dom, ok := s.findByUUID(uuid)
	if !ok {
		return errNoDomainObj(formatUUID(uuid), name)
	}
	if !dom.Active {
		return errNotRunning()
	}
	t, err := s.tuningOf(dom)
	if err != nil {
		return err
	}
	// A guest with PCI passthrough has all its memory pinned for VFIO DMA: resident.
	stats := [][2]uint64{{memStatActualBalloon, t.curKiB}, {memStatLastUpdate, 0}, {memStatRSS, t.curKiB}}
	stats = stats[:min(len(stats), int(maxStats))]
	encodeArray(e, stats, func(e *encoder, st [2]uint64) {
		e.int32(int32(st[0]))
		e.uint64(st[1])
	})
	return nil
}

// virDomainStatsTypes and the virConnectGetAllDomainStats flags of libvirt 9.0.
const (
	statsState     = 1 << 0
	statsCPUTotal  = 1 << 1
	statsBalloon   = 1 << 2
	statsVCPU      = 1 << 3
	statsInterface = 1 << 4
	statsBlock     = 1 << 5
	statsAll       = 1<<11 - 1 // up to VIR_DOMAIN_STATS_VM

	statsFilterActive   = 1 << 0
	statsFilterInactive = 1 << 1
	statsFilterPersist  = 1 << 2
	statsFilterTransnt  = 1 << 3
	statsFilterRunning  = 1 << 4
	statsFilterPaused   = 1 << 5
	statsFilterShutoff  = 1 << 6
	statsFilterOther    = 1 << 7
	statsNoWait         = 1 << 29
	statsBacking        = 1 << 30
	statsEnforce        = 1 << 31
	statsFlagsSupported = 1<<8 - 1 | statsNoWait | statsBacking | statsEnforce
)

func (s *session) connectGetAllDomainStats(d *decoder, e *encoder) *rpcError {
	n := d.uint32()
	if n > domainListMax {
		d.fail(fmt.Errorf("xdr: %d domains exceed REMOTE_DOMAIN_LIST_MAX", n))
	}
	type ref struct {
		name string
		uuid []byte
	}
	var refs []ref
	for i := uint32(0); i < n && d.err == nil; i++ {
		name, uuid := s.domainArg(d)
		refs = append(refs, ref{name, uuid})
	}
	stats := d.uint32()
	flags := d.uint32()
	if err := done(d); err != nil {
		return err
	}
	if bad := flags &^ statsFlagsSupported; bad != 0 {
		return errFlags(fromQEMU, bad, "qemuConnectGetAllDomainStats")
	}
	if bad := stats &^ statsAll; bad != 0 && flags&statsEnforce != 0 {
		return &rpcError{errOperationUnsupported, fromQEMU, fmt.Sprintf("Operation not supported: Stats types bits 0x%x are not supported by this daemon", bad)}
	}
	if stats == 0 {
		stats = statsAll
	}
	var doms []domain
	if len(refs) == 0 {
		doms = s.domains()
	} else {
		for _, r := range refs {
			dom, ok := s.findByUUID(r.uuid)
			if !ok {
				return errNoDomainObj(formatUUID(r.uuid), r.name)
			}
			doms = append(doms, *dom)
		}
	}
	filter := uint32(flags & (statsFilterActive | statsFilterInactive | statsFilterPersist | statsFilterTransnt |
		statsFilterRunning | statsFilterPaused | statsFilterShutoff | statsFilterOther))
	var records []domainStats
	for _, dom := range doms {
		// The stats filters are the ListAllDomains filters of the same bits.
		if !domainMatches(&dom, filter) {
			continue
		}
		t, err := s.tuningOf(&dom)
		if err != nil {
			return err
		}
		records = append(records, domainStats{dom, statsOf(&dom, t, stats)})
	}
	encodeArray(e, records, func(e *encoder, r domainStats) {
		encodeDomain(e, r.dom)
		encodeArray(e, r.params, encodeTypedParam)
	})
	return nil
}

type domainStats struct {
	dom    domain
	params []typedParam
}

// statsOf is one domain's record, group by group in the QEMU driver's order.
func statsOf(dom *domain, t *tuning, groups uint32) []typedParam {
	var p []typedParam
	add := func(ps ...typedParam) { p = append(p, ps...) }
	if groups&statsState != 0 {
		if dom.Active {
			add(intParam("state.state", stateRunning), intParam("state.reason", reasonBooted))
		} else {
			add(intParam("state.state", stateShutoff), intParam("state.reason", 0))
		}
	}
	if groups&statsCPUTotal != 0 && dom.Active {
		add(ullongParam("cpu.time", 0), ullongParam("cpu.user", 0), ullongParam("cpu.system", 0),
			uintParam("cpu.cache.monitor.count", 0),
			ullongParam("cpu.haltpoll.success.time", 0), ullongParam("cpu.haltpoll.fail.time", 0))
	}
	if groups&statsBalloon != 0 {
		add(ullongParam("balloon.current", t.curKiB), ullongParam("balloon.maximum", t.memKiB))
		if dom.Active {
			add(ullongParam("balloon.last-update", 0), ullongParam("balloon.rss", t.curKiB))
		}
	}
	if groups&statsVCPU != 0 {
		add(uintParam("vcpu.current", uint32(t.vcpus)), uintParam("vcpu.maximum", uint32(t.vcpus)))
		if dom.Active {
			for v := 0; v < t.vcpus; v++ {
				pre := "vcpu." + strconv.Itoa(v) + "."
				add(intParam(pre+"state", vcpuStateRunning), ullongParam(pre+"time", 0),
					ullongParam(pre+"wait", 0), ullongParam(pre+"delay", 0))
			}
		}
	}
	if groups&statsInterface != 0 && dom.Active {
		add(uintParam("net.count", uint32(len(t.ifaces))))
		for i, dev := range t.ifaces {
			pre := "net." + strconv.Itoa(i) + "."
			add(stringParam(pre+"name", dev))
			for _, c := range []string{"rx.bytes", "rx.pkts", "rx.errs", "rx.drop", "tx.bytes", "tx.pkts", "tx.errs", "tx.drop"} {
				add(ullongParam(pre+c, 0))
			}
		}
	}
	if groups&statsBlock != 0 {
		add(uintParam("block.count", uint32(len(t.disks))))
		for i, dk := range t.disks {
			pre := "block." + strconv.Itoa(i) + "."
			add(stringParam(pre+"name", dk.dev), stringParam(pre+"path", dk.path))
			if dom.Active {
				if dk.index != nil {
					add(uintParam(pre+"backingIndex", uint32(*dk.index)))
				}
				for _, c := range []string{"rd.reqs", "rd.bytes", "rd.times", "wr.reqs", "wr.bytes", "wr.times", "fl.reqs", "fl.times"} {
					add(ullongParam(pre+c, 0))
				}
			}
			// A fresh qcow2 overlay of the flavor's root disk: nothing allocated yet.
			add(ullongParam(pre+"allocation", 0), ullongParam(pre+"capacity", t.diskBytes), ullongParam(pre+"physical", 0))
		}
	}
	if groups&(1<<9) != 0 && dom.Active { // VIR_DOMAIN_STATS_DIRTYRATE: never measured
		add(intParam("dirtyrate.calc_status", 0), llongParam("dirtyrate.calc_start_time", 0),
			intParam("dirtyrate.calc_period", 0), stringParam("dirtyrate.calc_mode", "page-sampling"))
	}
	return p
}
