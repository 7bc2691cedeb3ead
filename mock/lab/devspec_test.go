package lab

import (
	"strings"
	"testing"
)

// TestDeviceSpecAddress: device_spec addresses are Nova's field-wise globs, not shell globs.
func TestDeviceSpecAddress(t *testing.T) {
	vf := Device{Address: Address{0, 0x3d, 1, 2}, VendorID: "8086", ProductID: "37c9", Parent: &Address{0, 0x3d, 0, 0}}
	for _, tc := range []struct {
		addr string
		want bool
	}{
		{"0000:3D:*", true},
		{":3d:01.", true},
		{"3d:01.2", true},
		{"0000:3d:01.02", true},
		{"0000:3d:00.0", true}, // the VF's PF, exactly
		{"0000:3d:00.*", false},
		{"0000:b1:*", false},
	} {
		if got := exposed([]DeviceSpec{{Address: tc.addr}}, &vf); got != tc.want {
			t.Errorf("address %q exposes %s: %v, want %v", tc.addr, vf.Address, got, tc.want)
		}
	}
	for _, bad := range []string{"0000:3*:00.0", "0:0:3d:00.0", "0000:3d:20.0"} {
		if _, err := parseAddressGlob(bad); err == nil {
			t.Errorf("address %q accepted", bad)
		}
	}
}

// TestCoreSockets: a node whose cores span sockets gives its CPUs their own sockets.
func TestCoreSockets(t *testing.T) {
	h := Host{Name: "h", NUMANodes: []NUMANode{{ID: 0, MemoryMB: 1024, Cores: []string{"0", "1"}, CoreSockets: []int{0, 1}}}}
	inv, err := h.Inventory(nil)
	if err != nil {
		t.Fatal(err)
	}
	if inv.CPUs[0].Socket != 0 || inv.CPUs[1].Socket != 1 || !h.NUMANodes[0].Spans() {
		t.Errorf("CPUs %+v, spans %v", inv.CPUs, h.NUMANodes[0].Spans())
	}
	h.NUMANodes[0].CoreSockets = []int{0}
	if _, err := h.Inventory(nil); err == nil || !strings.Contains(err.Error(), "core_sockets") {
		t.Errorf("one socket for two cores: %v", err)
	}
}
