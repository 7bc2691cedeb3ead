package placement

import (
	"strings"
	"testing"
)

func TestParseAddress(t *testing.T) {
	for in, want := range map[string]Address{
		"0000:3d:01.2":   {0, 0x3d, 1, 2},
		"3d:01.2":        {0, 0x3d, 1, 2},
		"0001:AF:1f.7":   {1, 0xaf, 0x1f, 7},
		" 0000:00:00.0 ": {},
	} {
		got, err := ParseAddress(in)
		if err != nil || got != want {
			t.Errorf("ParseAddress(%q) = %v, %v; want %v", in, got, err, want)
		}
		if err == nil && strings.TrimSpace(in) == got.String() {
			if back, _ := ParseAddress(got.String()); back != got {
				t.Errorf("round trip of %s", got)
			}
		}
	}
	for in, want := range map[string]string{
		"":              "expected DDDD:BB:SS.F",
		"0000:3d:01":    "expected DDDD:BB:SS.F",
		"0000:3d:0g.1":  `"0g" is not a hex number`,
		"0000:3d:20.0":  "out of range",
		"0000:3d:01.8":  "out of range",
		"10000:3d:01.0": "out of range",
		"a:b:c:d.e":     "expected DDDD:BB:SS.F",
		"0000::01.0":    `"" is not a hex number`,
	} {
		if _, err := ParseAddress(in); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("ParseAddress(%q) error = %v, want %q", in, err, want)
		}
	}
	a := Address{0, 0x3d, 1, 2}
	if a.NodeDeviceName() != "pci_0000_3d_01_2" {
		t.Errorf("NodeDeviceName = %s", a.NodeDeviceName())
	}
	if a.Compare(Address{0, 0x3d, 1, 3}) != -1 || a.Compare(a) != 0 || a.Compare(Address{0, 0x3c, 9, 0}) != 1 {
		t.Error("Compare")
	}
}

func TestHostdevAddresses(t *testing.T) {
	dom := `<domain type='kvm'><name>i-1</name><devices>
  <hostdev mode='subsystem' type='pci' managed='yes'>
    <source><address domain='0x0000' bus='0x81' slot='0x00' function='0x1'/></source>
  </hostdev>
  <hostdev mode='subsystem' type='usb' managed='yes'>
    <source><vendor id='0x1234'/><product id='0xbeef'/></source>
  </hostdev>
  <hostdev mode='subsystem' type='pci' managed='no'>
    <driver name='vfio'/>
    <source><address domain='0' bus='175' slot='0' function='0'/></source>
    <alias name='hostdev1'/>
    <address type='pci' domain='0x0000' bus='0x00' slot='0x06' function='0x0'/>
  </hostdev>
  <interface type='hostdev' managed='yes'>
    <mac address='fa:16:3e:11:22:33'/>
    <source><address type='pci' domain='0x0000' bus='0x3b' slot='0x02' function='0x1'/></source>
    <vlan><tag id='100'/></vlan>
  </interface>
  <interface type='bridge'><source bridge='br0'/></interface>
</devices></domain>`
	got, err := HostdevAddresses(dom)
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"0000:81:00.1", "0000:af:00.0", "0000:3b:02.1"}
	if len(got) != len(want) {
		t.Fatalf("got %v, want %v", got, want)
	}
	for i := range want {
		if got[i].String() != want[i] {
			t.Errorf("[%d] = %s, want %s", i, got[i], want[i])
		}
	}
	none, err := HostdevAddresses(`<domain type='kvm'><name>i-2</name></domain>`)
	if err != nil || len(none) != 0 {
		t.Errorf("no devices: %v %v", none, err)
	}
}

// TestBuildErrors breaks one input of a real case at a time; each error must say what is wrong.
func TestBuildErrors(t *testing.T) {
	dom0, devs0, caps0 := loadCase(t, "dedicated-2node-c62x")
	vf1 := Address{0, 0x3d, 1, 1}
	cases := []struct {
		name      string
		dom, caps [2]string // old, new replacement in the domain / caps XML
		devs      func(map[Address]string)
		want      string
	}{
		{"domain not XML", [2]string{"<domain type='kvm' id='3'>", "<domain"}, [2]string{}, nil, "domain XML:"},
		{"caps not XML", [2]string{}, [2]string{"<capabilities>", "<capabilities"}, nil, "host capabilities XML:"},
		{"caps empty", [2]string{}, [2]string{"<capabilities>", "CLEAR"}, nil, "host capabilities XML: empty"},
		{"node device missing", [2]string{}, [2]string{}, func(m map[Address]string) { delete(m, vf1) }, "hostdev 0000:3d:01.1: no node device XML given"},
		{"node device for another address", [2]string{}, [2]string{}, func(m map[Address]string) { m[vf1] = m[Address{0, 0x3d, 1, 0}] },
			"hostdev 0000:3d:01.1: node device XML given is for 0000:3d:01.0 (pci_0000_3d_01_0)"},
		{"node device not XML", [2]string{}, [2]string{}, func(m map[Address]string) { m[vf1] = "<device" }, "hostdev 0000:3d:01.1: node device XML:"},
		{"node device not PCI", [2]string{}, [2]string{}, func(m map[Address]string) {
			m[vf1] = "<device><name>net_eth0</name><capability type='net'><interface>eth0</interface></capability></device>"
		}, "hostdev 0000:3d:01.1: node device net_eth0 has no capability type='pci'"},
		{"node device without bus", [2]string{}, [2]string{}, func(m map[Address]string) { m[vf1] = strings.Replace(m[vf1], "<bus>61</bus>", "", 1) },
			"hostdev 0000:3d:01.1: node device pci_0000_3d_01_1: address without bus"},
		{"bad vendor id", [2]string{}, [2]string{}, func(m map[Address]string) { m[vf1] = strings.Replace(m[vf1], "id='0x8086'", "id='0x80866'", 1) },
			`hostdev 0000:3d:01.1: vendor id: "0x80866": expected 0x followed by 4 hex digits`},
		{"missing product id", [2]string{}, [2]string{}, func(m map[Address]string) { m[vf1] = strings.Replace(m[vf1], "id='0x37c9'", "", 1) },
			`hostdev 0000:3d:01.1: product id: "": expected 0x followed by 4 hex digits`},
		{"phys_function address without bus", [2]string{}, [2]string{}, func(m map[Address]string) {
			m[vf1] = strings.Replace(m[vf1], "<address domain='0x0000' bus='0x3d' slot='0x00' function='0x0'/>", "<address domain='0x0000' slot='0x00' function='0x0'/>", 1)
		}, "hostdev 0000:3d:01.1: phys_function: address without bus"},
		{"hostdev without source", [2]string{"<source>\n        <address domain='0x0000' bus='0x3d' slot='0x01' function='0x1'/>\n      </source>", ""}, [2]string{}, nil,
			"domain instance-0000002a: hostdev[1]: no source/address"},
		{"hostdev address without slot", [2]string{"bus='0x3d' slot='0x01' function='0x1'", "bus='0x3d' function='0x1'"}, [2]string{}, nil,
			"domain instance-0000002a: hostdev[1] source: address without slot"},
		{"hostdev out of range", [2]string{"slot='0x01' function='0x1'", "slot='0x01' function='0x9'"}, [2]string{}, nil, "out of range"},
		{"hostdev twice", [2]string{"bus='0x3d' slot='0x01' function='0x1'", "bus='0x3d' slot='0x01' function='0x0'"}, [2]string{}, nil,
			"hostdev[1]: host device 0000:3d:01.0 is passed through twice"},
		{"vcpupin cpuset", [2]string{"<vcpupin vcpu='1' cpuset='2'/>", "<vcpupin vcpu='1' cpuset='2-x'/>"}, [2]string{}, nil, "vcpupin vcpu=1: cpuset"},
		{"vcpupin beyond vcpus", [2]string{"<vcpupin vcpu='3' cpuset='6'/>", "<vcpupin vcpu='4' cpuset='6'/>"}, [2]string{}, nil, "vcpupin vcpu=4: the domain has only 4 vCPUs"},
		{"vcpupin twice", [2]string{"<vcpupin vcpu='3' cpuset='6'/>", "<vcpupin vcpu='2' cpuset='6'/>"}, [2]string{}, nil, "vcpupin vcpu=2: pinned twice"},
		{"memnode without cell", [2]string{"<memnode cellid='1'", "<memnode cellid='2'"}, [2]string{}, nil, "numatune memnode cellid=2: the guest has no NUMA cell 2"},
		{"memnode twice", [2]string{"<memnode cellid='1'", "<memnode cellid='0'"}, [2]string{}, nil, "numatune memnode cellid=0: listed twice"},
		{"memnode nodeset", [2]string{"<memnode cellid='1' mode='strict' nodeset='1'/>", "<memnode cellid='1' mode='strict' nodeset='one'/>"}, [2]string{}, nil, "numatune memnode cellid=1: cpuset"},
		{"numatune memory nodeset", [2]string{"<memory mode='strict' nodeset='0,1'/>", "<memory mode='strict' nodeset='0-'/>"}, [2]string{}, nil, "numatune memory nodeset: cpuset"},
		{"guest cells overlap", [2]string{"cpus='2-3'", "cpus='1-3'"}, [2]string{}, nil, "guest NUMA cell 1: vCPU 1 is also in cell 0"},
		{"guest cell twice", [2]string{"<cell id='1' cpus='2-3'", "<cell id='0' cpus='2-3'"}, [2]string{}, nil, "guest NUMA cell 0: listed twice"},
		{"caps CPU in two cells", [2]string{}, [2]string{"<cpu id='4' socket_id='1'", "<cpu id='0' socket_id='1'"}, nil, "host capabilities XML: CPU 0 is listed in NUMA cells 0 and 1"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			dom, caps := dom0, caps0
			if tc.dom[0] != "" {
				if !strings.Contains(dom, tc.dom[0]) {
					t.Fatalf("bad case: %q not in domain XML", tc.dom[0])
				}
				dom = strings.Replace(dom, tc.dom[0], tc.dom[1], 1)
			}
			if tc.caps[0] != "" {
				if !strings.Contains(caps, tc.caps[0]) {
					t.Fatalf("bad case: %q not in caps XML", tc.caps[0])
				}
				if tc.caps[1] == "CLEAR" {
					caps = "  "
				} else {
					caps = strings.Replace(caps, tc.caps[0], tc.caps[1], 1)
				}
			}
			devs := map[Address]string{}
			for k, v := range devs0 {
				devs[k] = v
			}
			if tc.devs != nil {
				tc.devs(devs)
			}
			p, err := Build(dom, devs, caps)
			if err == nil {
				t.Fatalf("accepted: %+v", p)
			}
			if !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error %q\nlacks %q", err, tc.want)
			}
		})
	}
}

// TestBuildTolerates covers inputs real hosts produce that must not be errors.
func TestBuildTolerates(t *testing.T) {
	dom, devs, caps := loadCase(t, "gpu-no-numa")
	gpu := Address{0, 0xaf, 0, 0}

	// An explicit negative NUMA node (some libvirt versions) is "no NUMA information".
	devs[gpu] = strings.Replace(devs[gpu], "<iommuGroup", "<numa node='-1'/>\n    <iommuGroup", 1)
	p, err := Build(dom, devs, caps)
	if err != nil || p.Devices[0].NUMANode != nil {
		t.Fatalf("numa -1: %v %+v", err, p)
	}

	// Capabilities without NUMA topology (the test driver with a custom file): no node maps.
	noNUMA := "<capabilities><host><uuid>x</uuid><cpu><arch>x86_64</arch></cpu></host></capabilities>"
	p, err = Build(dom, devs, noNUMA)
	if err != nil || len(p.PCPUNodes) != 0 || len(p.NodeSocket) != 0 {
		t.Fatalf("caps without NUMA: %v %+v", err, p)
	}

	// A vcpupin with a CPU range means floating, not pinned.
	floating := strings.Replace(dom, "<vcpupin vcpu='1' cpuset='2'/>", "<vcpupin vcpu='1' cpuset='1-3'/>", 1)
	p, err = Build(floating, devs, caps)
	if err != nil || p.Pinned {
		t.Fatalf("floating vCPU: %v pinned=%v", err, p.Pinned)
	}
	// One vCPU without a vcpupin means not pinned either.
	partial := strings.Replace(dom, "<vcpupin vcpu='1' cpuset='2'/>", "", 1)
	p, err = Build(partial, devs, caps)
	if err != nil || p.Pinned {
		t.Fatalf("partial pinning: %v pinned=%v", err, p.Pinned)
	}
	// Guest cells without id attributes are numbered in order.
	noIDs := strings.Replace(dom, "<cell id='0' ", "<cell ", 1)
	p, err = Build(noIDs, devs, caps)
	if err != nil || len(p.GuestCells) != 1 || p.GuestCells[0].ID != 0 {
		t.Fatalf("cell without id: %v %+v", err, p)
	}
}
