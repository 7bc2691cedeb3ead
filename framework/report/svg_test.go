package report

import (
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/hwcert/hwcert/framework/inventory"
)

var update = flag.Bool("update", false, "rewrite the golden files under testdata/")

// The hosts of the shipped labs (fixtures/labs), as a run's EntryLab records them.
var shippedLabs = []string{"aio", "multi", "stx-reading"}

func loadHosts(t *testing.T, lab string) []inventory.Host {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("testdata", "hosts-"+lab+".json"))
	if err != nil {
		t.Fatal(err)
	}
	var hosts []inventory.Host
	if err := json.Unmarshal(data, &hosts); err != nil {
		t.Fatalf("hosts-%s.json: %v", lab, err)
	}
	return hosts
}

func golden(t *testing.T, name, got string) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -update to create it)", err)
	}
	if got != string(want) {
		t.Errorf("%s differs from what HostSVG draws now; look at both, then go test -update:\n%s", path, got)
	}
}

func TestHostSVGGolden(t *testing.T) {
	for _, lab := range shippedLabs {
		for _, h := range loadHosts(t, lab) {
			t.Run(lab+"/"+h.Name, func(t *testing.T) {
				golden(t, lab+"-"+h.Name+".svg", HostSVG(topologyOf(h)))
			})
		}
	}
}

// A guest whose device sits on the node its memory is not bound to (the numa-misplace lie):
// the picture must mark the device remote and the guest's pCPUs and memory node.
func TestGuestSVGRemoteDevice(t *testing.T) {
	data, err := os.ReadFile(filepath.Join("testdata", "placement-remote.json"))
	if err != nil {
		t.Fatal(err)
	}
	var rec PlacementRecord
	if err := json.Unmarshal(data, &rec); err != nil {
		t.Fatal(err)
	}
	var host *inventory.Host
	for _, h := range loadHosts(t, "multi") {
		if h.Name == rec.Host {
			host = &h
		}
	}
	if host == nil {
		t.Fatalf("placement-remote.json is on %s, not a host of the multi lab", rec.Host)
	}
	g := guestOf(rec)
	svg := GuestSVG(topologyOf(*host), g)
	golden(t, "guest-remote.svg", svg)
	for _, want := range []string{`class="dev attached remote vf"`, `class="cpu pinned"`, `class="node guest-memory"`, "REMOTE"} {
		if !strings.Contains(svg, want) {
			t.Errorf("guest picture lacks %s", want)
		}
	}
	if strings.Contains(svg, "attached local") {
		t.Errorf("guest picture marks a device local; the placement has only a remote one")
	}
}

func TestTopologyOf(t *testing.T) {
	hosts := loadHosts(t, "multi")
	byName := map[string]inventory.Host{}
	for _, h := range hosts {
		byName[h.Name] = h
	}
	// worker-2: one socket holding two nodes, a GPU without NUMA information drawn apart.
	w2 := topologyOf(byName["worker-2"])
	if len(w2.Sockets) != 1 || len(w2.Sockets[0].Nodes) != 2 {
		t.Errorf("worker-2: %d sockets, expected 1 socket with 2 nodes: %+v", len(w2.Sockets), w2.Sockets)
	}
	if len(w2.NoNUMA) != 1 || w2.NoNUMA[0].Parent == nil || w2.NoNUMA[0].Parent.NUMANode != nil {
		t.Errorf("worker-2: no-NUMA groups %+v, expected the GPU alone", w2.NoNUMA)
	}
	// worker-1 node 1: two PFs, each with its 4 VFs, in address order; cores are sibling pairs.
	w1 := topologyOf(byName["worker-1"])
	n1 := w1.Sockets[1].Nodes[0]
	if len(n1.Devices) != 2 || len(n1.Devices[0].VFs) != 4 || n1.Devices[0].Parent.Address.String() != "0000:b1:00.0" {
		t.Errorf("worker-1 node 1 devices: %+v", n1.Devices)
	}
	if len(n1.Cores) != 4 || len(n1.Cores[0]) != 2 || n1.Cores[0][0] != 4 || n1.Cores[0][1] != 12 {
		t.Errorf("worker-1 node 1 cores %v, expected [4 12] [5 13] ...", n1.Cores)
	}
}
