package libvirtd

import (
	"encoding/xml"
	"fmt"
	"strings"

	"github.com/hwcert/hwcert/mock/cpuset"
)

// The procedures that report a domain's placement (vcpupin, emulatorpin, numatune, vcpuinfo,
// domstats, node free memory) read it from the domain XML the daemon serves, never from the
// scheduler: whatever dumpxml shows, every other answer agrees with, as on a real host where all
// of them come from the one live definition.

// domainXML is the part of a domain definition those procedures need.
type domainXML struct {
	Memory        uint64 `xml:"memory"`
	CurrentMemory uint64 `xml:"currentMemory"`
	VCPU          struct {
		CPUSet string `xml:"cpuset,attr"`
		Count  int    `xml:",chardata"`
	} `xml:"vcpu"`
	CPUTune struct {
		VCPUPins []struct {
			VCPU   int    `xml:"vcpu,attr"`
			CPUSet string `xml:"cpuset,attr"`
		} `xml:"vcpupin"`
		EmulatorPin *struct {
			CPUSet string `xml:"cpuset,attr"`
		} `xml:"emulatorpin"`
	} `xml:"cputune"`
	NUMATune *struct {
		Memory *struct {
			Mode    string `xml:"mode,attr"`
			Nodeset string `xml:"nodeset,attr"`
		} `xml:"memory"`
		MemNodes []struct {
			CellID  int    `xml:"cellid,attr"`
			Nodeset string `xml:"nodeset,attr"`
		} `xml:"memnode"`
	} `xml:"numatune"`
	Cells []struct {
		ID     int    `xml:"id,attr"`
		Memory uint64 `xml:"memory,attr"`
	} `xml:"cpu>numa>cell"`
	Disks []struct {
		Source struct {
			File  string `xml:"file,attr"`
			Index *uint  `xml:"index,attr"`
		} `xml:"source"`
		Target struct {
			Dev string `xml:"dev,attr"`
		} `xml:"target"`
	} `xml:"devices>disk"`
	Interfaces []struct {
		Target struct {
			Dev string `xml:"dev,attr"`
		} `xml:"target"`
	} `xml:"devices>interface"`
	FlavorDiskGiB uint64 `xml:"metadata>instance>flavor>disk"`
}

// tuning is a domain's placement as libvirt reports it: which host CPUs each vCPU and the
// emulator may run on, and where its memory lives.
type tuning struct {
	vcpus    int
	pins     [][]int // per vCPU, the host CPUs it may run on
	emulator []int
	// numaMode and nodeset are <numatune><memory>; nodeset is "" without a numatune.
	numaMode string
	nodeset  string
	// nodeMemKiB is the guest memory each host NUMA node holds; nil when the kernel decides.
	nodeMemKiB map[int]uint64
	memKiB     uint64
	curKiB     uint64
	disks      []disk
	ifaces     []string
	diskBytes  uint64
}

type disk struct {
	dev, path string
	index     *uint
}

// numaModes are libvirt's virDomainNumatuneMemMode values, by their XML names.
var numaModes = map[string]int32{"strict": 0, "preferred": 1, "interleave": 2, "restrictive": 3}

// parseTuning reads the placement of a domain from its XML. hostCPUs are the host's CPU ids: a
// vCPU without a pin, and the emulator without one, float over <vcpu cpuset> or, without one,
// over every host CPU (libvirt's default).
func parseTuning(doc string, hostCPUs []int) (*tuning, error) {
	var x domainXML
	if err := xml.Unmarshal([]byte(doc), &x); err != nil {
		return nil, fmt.Errorf("domain XML: %w", err)
	}
	if x.VCPU.Count <= 0 {
		return nil, fmt.Errorf("domain XML: <vcpu> is %d, expected a positive vCPU count", x.VCPU.Count)
	}
	t := &tuning{vcpus: x.VCPU.Count, memKiB: x.Memory, curKiB: x.CurrentMemory, numaMode: "strict",
		diskBytes: x.FlavorDiskGiB << 30}
	if t.curKiB == 0 {
		t.curKiB = t.memKiB
	}
	floating := hostCPUs
	if x.VCPU.CPUSet != "" {
		set, err := cpuset.Parse(x.VCPU.CPUSet)
		if err != nil {
			return nil, fmt.Errorf("domain XML: <vcpu cpuset=%q>: %w", x.VCPU.CPUSet, err)
		}
		floating = set
	}
	t.pins = make([][]int, t.vcpus)
	for i := range t.pins {
		t.pins[i] = floating
	}
	for _, p := range x.CPUTune.VCPUPins {
		if p.VCPU < 0 || p.VCPU >= t.vcpus {
			return nil, fmt.Errorf("domain XML: <vcpupin vcpu='%d'>: expected a vCPU below %d", p.VCPU, t.vcpus)
		}
		set, err := cpuset.Parse(p.CPUSet)
		if err != nil {
			return nil, fmt.Errorf("domain XML: <vcpupin vcpu='%d' cpuset=%q>: %w", p.VCPU, p.CPUSet, err)
		}
		t.pins[p.VCPU] = set
	}
	t.emulator = floating
	if e := x.CPUTune.EmulatorPin; e != nil {
		set, err := cpuset.Parse(e.CPUSet)
		if err != nil {
			return nil, fmt.Errorf("domain XML: <emulatorpin cpuset=%q>: %w", e.CPUSet, err)
		}
		t.emulator = set
	}
	if n := x.NUMATune; n != nil && n.Memory != nil {
		if _, ok := numaModes[n.Memory.Mode]; !ok && n.Memory.Mode != "" {
			return nil, fmt.Errorf("domain XML: <numatune><memory mode=%q>: expected strict, preferred, interleave or restrictive", n.Memory.Mode)
		}
		if n.Memory.Mode != "" {
			t.numaMode = n.Memory.Mode
		}
		t.nodeset = n.Memory.Nodeset
		if err := t.placeMemory(x); err != nil {
			return nil, err
		}
	}
	for _, d := range x.Disks {
		t.disks = append(t.disks, disk{dev: d.Target.Dev, path: d.Source.File, index: d.Source.Index})
	}
	for _, i := range x.Interfaces {
		t.ifaces = append(t.ifaces, i.Target.Dev)
	}
	return t, nil
}

// placeMemory spreads each guest cell's memory evenly over the host nodes of its memnode (or,
// without memnodes, the whole memory over the numatune nodeset).
func (t *tuning) placeMemory(x domainXML) error {
	t.nodeMemKiB = map[int]uint64{}
	spread := func(kib uint64, nodeset string) error {
		nodes, err := cpuset.Parse(nodeset)
		if err != nil || len(nodes) == 0 {
			return fmt.Errorf("domain XML: numatune nodeset %q: expected a list of host NUMA nodes", nodeset)
		}
		for i, n := range nodes {
			share := kib / uint64(len(nodes))
			if i == 0 {
				share += kib % uint64(len(nodes))
			}
			t.nodeMemKiB[n] += share
		}
		return nil
	}
	mems := x.NUMATune.MemNodes
	if len(mems) == 0 {
		return spread(t.memKiB, t.nodeset)
	}
	cellMem := map[int]uint64{}
	for _, c := range x.Cells {
		cellMem[c.ID] = c.Memory
	}
	for _, m := range mems {
		kib, ok := cellMem[m.CellID]
		if !ok {
			return fmt.Errorf("domain XML: <memnode cellid='%d'>: no such guest NUMA cell in <cpu><numa>", m.CellID)
		}
		if err := spread(kib, m.Nodeset); err != nil {
			return err
		}
	}
	return nil
}

// cpumap is libvirt's CPU bitmap: bit i of byte i/8 is host CPU i, maplen bytes long.
func cpumap(cpus []int, maplen int) []byte {
	m := make([]byte, maplen)
	for _, c := range cpus {
		if c >= 0 && c/8 < maplen {
			m[c/8] |= 1 << (c % 8)
		}
	}
	return m
}

// tuningOf parses the placement of dom, as an internal error if its XML cannot say.
func (s *session) tuningOf(dom *domain) (*tuning, *rpcError) {
	t, err := parseTuning(dom.XML, s.srv.hostCPUs())
	if err != nil {
		return nil, errInternalf("domain %s: %s", dom.Name, strings.TrimPrefix(err.Error(), "domain XML: "))
	}
	return t, nil
}
