package matchers

import (
	"strings"
	"testing"

	"github.com/gophercloud/gophercloud/v2/openstack/compute/v2/servers"
	"github.com/onsi/gomega"

	"github.com/hwcert/hwcert/framework/catalog"
	"github.com/hwcert/hwcert/framework/placement"
	"github.com/hwcert/hwcert/framework/verify"
)

func intp(i int) *int { return &i }

// onNode0 is a 1-node dedicated guest on host node 0 with one C62x VF on node 0.
func onNode0(devNode int) *placement.Placement {
	return &placement.Placement{
		Domain: "instance-00000001", UUID: "u-1",
		Devices: []placement.Device{{
			Address:  placement.Address{Bus: 0x3d, Slot: 1, Function: 2},
			VendorID: "8086", ProductID: "37c9", Function: "vf",
			PF: &placement.Address{Bus: 0x3d}, PFNUMANode: intp(devNode),
			NUMANode: intp(devNode), Socket: intp(devNode), Driver: "vfio-pci",
		}},
		HasNUMATopology: true,
		GuestCells:      []placement.GuestCell{{ID: 0, HostNodes: []int{0}, MemMode: "strict", VCPUs: []int{0, 1}, PCPUs: []int{1, 2}}},
		HostNodes:       []int{0},
		MemoryNodes:     []int{0},
		MemoryMode:      "strict",
		VCPUs:           2,
		VCPUPins:        map[int][]int{0: {1}, 1: {2}},
		PCPUs:           []int{1, 2},
		Pinned:          true,
		PCPUNodes:       map[int]int{0: 0, 1: 0, 2: 0, 3: 0, 4: 1, 5: 1, 6: 1, 7: 1},
		NodeSocket:      map[int]int{0: 0, 1: 1},
	}
}

func request(t *testing.T) verify.Request {
	cat, err := catalog.Default()
	if err != nil {
		t.Fatal(err)
	}
	e, _ := cat.Lookup("qat-c62x-vf")
	return verify.Request{Aliases: []verify.AliasRequest{{Entry: e, Count: 1}}, Policy: "required", Dedicated: true}
}

// failures runs f with a Gomega whose failures are collected instead of failing the test.
func failures(f func(g gomega.Gomega)) []string {
	var msgs []string
	g := gomega.NewGomega(func(message string, _ ...int) { msgs = append(msgs, message) })
	f(g)
	return msgs
}

func TestSatisfyRequest(t *testing.T) {
	req := request(t)
	if msgs := failures(func(g gomega.Gomega) { g.Expect(onNode0(0)).To(SatisfyRequest(req)) }); len(msgs) != 0 {
		t.Fatalf("local VF should satisfy required: %v", msgs)
	}
	msgs := failures(func(g gomega.Gomega) { g.Expect(onNode0(1)).To(SatisfyRequest(req)) })
	if len(msgs) != 1 {
		t.Fatalf("remote VF should fail required, got %d failures", len(msgs))
	}
	for _, want := range []string{
		"Expected the placement to satisfy the request",
		"expected: qat-c62x-vf:1",
		"found:    1 device (0000:3d:01.2 8086:37c9 vf node 1)",
		"qat-c62x-vf (required): 0000:3d:01.2 is on host node 1, expected one of the guest's host nodes [0]",
		"DEVICE        ID         FUNCTION",
		"0000:3d:01.2  8086:37c9  vf        0000:3d:00.0  1     1       vfio-pci",
		"GUEST CELL",
	} {
		if !strings.Contains(msgs[0], want) {
			t.Errorf("failure message lacks %q:\n%s", want, msgs[0])
		}
	}
	neg := failures(func(g gomega.Gomega) { g.Expect(onNode0(0)).NotTo(SatisfyRequest(req)) })
	if len(neg) != 1 || !strings.Contains(neg[0], "not to satisfy the request, but it does") {
		t.Errorf("negated message: %v", neg)
	}
	// A value works as well as a pointer.
	if msgs := failures(func(g gomega.Gomega) { g.Expect(*onNode0(0)).To(SatisfyRequest(req)) }); len(msgs) != 0 {
		t.Errorf("value placement: %v", msgs)
	}
	// Wrong types and nil are errors, not silent passes.
	for _, actual := range []any{"placement", (*placement.Placement)(nil), 42} {
		msgs := failures(func(g gomega.Gomega) { g.Expect(actual).To(SatisfyRequest(req)) })
		if len(msgs) != 1 || !strings.Contains(msgs[0], "SatisfyRequest: actual is") {
			t.Errorf("actual %#v: %v", actual, msgs)
		}
	}
}

func TestHaveFault(t *testing.T) {
	nvh := "No valid host was found. There are not enough hosts available."
	cases := []struct {
		name    string
		actual  any
		code    int
		substr  string
		match   bool
		message string // substring of the failure message when !match
	}{
		{"fault", Fault{500, nvh}, 500, "No valid host", true, ""},
		{"fault ptr", &Fault{500, nvh}, 500, "not enough hosts", true, ""},
		{"any code", Fault{500, nvh}, 0, "No valid host", true, ""},
		{"gophercloud fault", servers.Fault{Code: 500, Message: nvh}, 500, "No valid host", true, ""},
		{"gophercloud fault ptr", &servers.Fault{Code: 500, Message: nvh}, 500, "", true, ""},
		{"server", servers.Server{Status: "ERROR", Fault: servers.Fault{Code: 500, Message: nvh}}, 500, "No valid host", true, ""},
		{"server ptr", &servers.Server{Fault: servers.Fault{Code: 500, Message: nvh}}, 500, "No valid host", true, ""},
		{"wrong code", Fault{400, "PCI alias qat-c62x-vf is not defined"}, 500, "No valid host",
			false, "Expected a fault with code 500 and a message containing \"No valid host\"\nfound code 400, message \"PCI alias qat-c62x-vf is not defined\""},
		{"wrong message", Fault{500, "Exceeded maximum number of retries."}, 500, "No valid host",
			false, "found code 500, message \"Exceeded maximum number of retries.\""},
		{"no fault", servers.Server{Status: "ACTIVE"}, 500, "No valid host",
			false, "found no fault (code 0, empty message)"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			msgs := failures(func(g gomega.Gomega) { g.Expect(tc.actual).To(HaveFault(tc.code, tc.substr)) })
			if tc.match {
				if len(msgs) != 0 {
					t.Fatalf("expected a match: %v", msgs)
				}
				neg := failures(func(g gomega.Gomega) { g.Expect(tc.actual).NotTo(HaveFault(tc.code, tc.substr)) })
				if len(neg) != 1 || !strings.HasPrefix(neg[0], "Expected no fault with") {
					t.Errorf("negated message: %v", neg)
				}
				return
			}
			if len(msgs) != 1 || !strings.Contains(msgs[0], tc.message) {
				t.Fatalf("failure message %v lacks %q", msgs, tc.message)
			}
		})
	}
	for _, actual := range []any{"fault", (*servers.Server)(nil), (*Fault)(nil)} {
		msgs := failures(func(g gomega.Gomega) { g.Expect(actual).To(HaveFault(500, "")) })
		if len(msgs) != 1 || !strings.Contains(msgs[0], "HaveFault: actual is") {
			t.Errorf("actual %#v: %v", actual, msgs)
		}
	}
}
