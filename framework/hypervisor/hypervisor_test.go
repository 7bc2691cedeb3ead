package hypervisor

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/hwcert/hwcert/framework/placement"
)

func testURI(t *testing.T) string {
	t.Helper()
	abs, err := filepath.Abs("testdata/node.xml")
	if err != nil {
		t.Fatal(err)
	}
	return "test://" + abs
}

func inspector(t *testing.T) *Inspector {
	uri := testURI(t)
	in := New(func(host string) (string, error) {
		if host != "compute-0" {
			return "", fmt.Errorf("no URI for host %q", host)
		}
		return uri, nil
	})
	t.Cleanup(func() { _ = in.Close() })
	return in
}

func TestEvidence(t *testing.T) {
	in := inspector(t)
	ctx := context.Background()
	vf := placement.Address{Domain: 0, Bus: 0x3d, Slot: 1, Function: 2}
	pf := placement.Address{Domain: 0, Bus: 0x3d}
	for _, tt := range []struct{ name, uuid string }{
		{"instance-00000001", ""},
		{"", "6695eb01-f6a4-8304-79aa-97f2502e193f"},
		{"instance-renamed", "6695eb01-f6a4-8304-79aa-97f2502e193f"}, // falls back to the UUID
	} {
		ev, err := in.Evidence(ctx, "compute-0", tt.name, tt.uuid)
		if err != nil {
			t.Fatalf("Evidence(%q, %q): %v", tt.name, tt.uuid, err)
		}
		if !strings.Contains(ev.DomainXML, "instance-00000001") || ev.CapsXML == "" {
			t.Errorf("Evidence(%q, %q): domain or caps XML missing", tt.name, tt.uuid)
		}
		if x := ev.NodeDevXML[vf]; !strings.Contains(x, "0x37c9") {
			t.Errorf("Evidence(%q, %q): node device XML of %s = %q", tt.name, tt.uuid, vf, x)
		}
		if x := ev.NodeDevXML[pf]; !strings.Contains(x, "0x37c8") {
			t.Errorf("Evidence(%q, %q): node device XML of the VF's PF %s = %q", tt.name, tt.uuid, pf, x)
		}
	}
}

func TestEvidenceErrorsNameHostAndDomain(t *testing.T) {
	in := inspector(t)
	ctx := context.Background()
	_, err := in.Evidence(ctx, "compute-0", "instance-missing", "")
	if err == nil || !strings.Contains(err.Error(), "compute-0") || !strings.Contains(err.Error(), "instance-missing") || !IsNoDomain(err) {
		t.Errorf("missing domain: err = %v", err)
	}
	_, err = in.Evidence(ctx, "compute-9", "instance-00000001", "")
	if err == nil || !strings.Contains(err.Error(), `no URI for host "compute-9"`) {
		t.Errorf("unknown host: err = %v", err)
	}
}

func TestPCIInventoryAndParallelUse(t *testing.T) {
	in := inspector(t)
	ctx := context.Background()
	var wg sync.WaitGroup
	errs := make(chan error, 8)
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			inv, err := in.PCIInventory(ctx, "compute-0")
			if err == nil && !strings.Contains(inv["pci_0000_3d_01_2"], "0x8086") {
				err = fmt.Errorf("inventory lacks the VF: %v", inv)
			}
			errs <- err
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Error(err)
		}
	}
	if got := in.Hosts(); len(got) != 1 {
		t.Errorf("connections: %v, want one (reused)", got)
	}
}
