package scheduler

import (
	"fmt"
	"slices"
	"testing"

	"github.com/hwcert/hwcert/mock/lab"
)

// sriovLab is Nova's HostPCIDevicesInfo(num_pfs=1, num_vfs=vfs): one ixgbe PF 8086:1528 at
// 0000:81:00.0 with its ixgbevf VFs 8086:1515 from 0000:81:00.1, on NUMA node 0, and both the
// PF and the VFs in device_spec (report_in_placement false, Nova's default).
func sriovLab(t testing.TB, vfs int) *lab.Lab {
	t.Helper()
	l, err := lab.Parse("sriov.yaml", []byte(fmt.Sprintf(`name: sriov
nova:
  aliases:
    - {name: vfs, vendor_id: "8086", product_id: "1515", device_type: type-VF}
    - {name: pfs, vendor_id: "8086", product_id: "1528", device_type: type-PF}
  device_spec:
    - {vendor_id: "8086", product_id: "1528"}
    - {vendor_id: "8086", product_id: "1515"}
hosts:
  - name: h
    numa_nodes:
      - {id: 0, socket: 0, memory_mb: 8192, cores: ["0,4", "1,5"]}
      - {id: 1, socket: 1, memory_mb: 8192, cores: ["2,6", "3,7"]}
    pci_devices:
      - {address: "0000:81:00.0", vendor_id: "8086", product_id: "1528", class: "0x020000", numa_node: 0,
         vfs: {count: %d, address: "0000:81:00.1", product_id: "1515"}}
`, vfs)))
	if err != nil {
		t.Fatal(err)
	}
	return l
}

// TestPFAndVFsHoldEachOther ports SRIOVServersTest.test_create_server_with_PF_no_VF and
// test_create_server_with_VF_no_PF (nova/tests/functional/libvirt/test_pci_sriov_servers.py),
// and checks that releasing the holder gives the family back (PciDevice.free).
func TestPFAndVFsHoldEachOther(t *testing.T) {
	type step struct {
		alias   string // "" releases the server of step release
		release int
		want    []string // devices; nil: No valid host
	}
	cases := []struct {
		name  string
		steps []step
	}{
		{"test_create_server_with_PF_no_VF", []step{
			{alias: "pfs:1", want: []string{"0000:81:00.0"}},
			{alias: "vfs:1"},
			{release: 0},
			{alias: "vfs:4", want: []string{"0000:81:00.1", "0000:81:00.2", "0000:81:00.3", "0000:81:00.4"}},
		}},
		{"test_create_server_with_VF_no_PF", []step{
			{alias: "vfs:1", want: []string{"0000:81:00.1"}},
			{alias: "pfs:1"},
			{alias: "vfs:1", want: []string{"0000:81:00.2"}},
			{release: 0},
			{alias: "pfs:1"}, // the second VF still holds the PF
			{release: 2},
			{alias: "pfs:1", want: []string{"0000:81:00.0"}},
		}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			s := newSched(t, sriovLab(t, 4))
			ids := make([]string, len(c.steps))
			for i, st := range c.steps {
				if st.alias == "" {
					s.Release(ids[st.release])
					continue
				}
				p, id, err := boot(t, s, 1, 512, map[string]string{"pci_passthrough:alias": st.alias})
				ids[i] = id
				switch {
				case st.want == nil && !isNoValidHost(err):
					t.Fatalf("step %d %s: got %v, %v; want No valid host", i, st.alias, p, err)
				case st.want != nil && err != nil:
					t.Fatalf("step %d %s: %v", i, st.alias, err)
				case st.want != nil && !slices.Equal(addrs(p), st.want):
					t.Fatalf("step %d %s: devices %v, want %v", i, st.alias, addrs(p), st.want)
				}
			}
			if err := checkInvariants(s); err != nil {
				t.Fatal(err)
			}
		})
	}
}

// packing_host_numa_cells_allocation_strategy: spread (Nova's default) puts the second pinned
// guest on the emptier node, pack on the node the first already uses.
func TestPackNUMACells(t *testing.T) {
	for _, pack := range []bool{false, true} {
		l := twoNodeLab(t, 0, 0, "upstream")
		l.Nova.PackNUMACells = pack
		s := newSched(t, l)
		spec := map[string]string{"hw:cpu_policy": "dedicated"}
		first, _ := mustBoot(t, s, 1, 1024, spec)
		second, _ := mustBoot(t, s, 1, 1024, spec)
		same := hostNodes(first)[0] == hostNodes(second)[0]
		if same != pack {
			t.Errorf("pack %v: guests on nodes %v and %v", pack, hostNodes(first), hostNodes(second))
		}
	}
}
