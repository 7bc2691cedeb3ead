//go:build conformance

package conformance

import (
	"encoding/json"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/hwcert/hwcert/mock/lab"
)

const multiLab = "fixtures/labs/multi.yaml"

// hostsWith returns the hosts of a lab that expose at least n devices matching alias.
func hostsWith(t *testing.T, labFile, alias string, n int) []string {
	t.Helper()
	l, err := lab.Load(labPath(t, labFile))
	if err != nil {
		t.Fatal(err)
	}
	invs, err := l.Inventories()
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, h := range l.Hosts {
		count := 0
		for _, d := range invs[h.Name].Devices {
			if !d.Exposed {
				continue
			}
			for _, a := range l.Nova.Aliases {
				if a.Name == alias && a.VendorID == d.VendorID && a.ProductID == d.ProductID {
					count++
					break
				}
			}
		}
		if count >= n {
			out = append(out, h.Name)
		}
	}
	return out
}

func jsonObject(t *testing.T, r cliResult) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal([]byte(r.Stdout), &m); err != nil {
		t.Fatalf("not JSON: %v\n%s", err, r)
	}
	return m
}

func TestCLIFlavorExtraSpecs(t *testing.T) {
	t.Parallel()
	dir := startMock(t, multiLab)
	if r := openstackCLI(t, dir, "flavor", "create", "--ram", "1024", "--vcpus", "2", "--disk", "1", "hwcert-conf"); r.Err != nil {
		t.Fatalf("flavor create: %s", r)
	}
	// Accepted at 2.86, including the StarlingX document's spaced example.
	if r := openstackCLI(t, dir, "--os-compute-api-version", "2.86", "flavor", "set",
		"--property", "pci_passthrough:alias=gpu:1, qat-c62x-vf:2", "hwcert-conf"); r.Err != nil {
		t.Fatalf("flavor set gpu:1, qat-c62x-vf:2: %s", r)
	}
	props := jsonObject(t, openstackCLI(t, dir, "flavor", "show", "-f", "json", "hwcert-conf"))["properties"].(map[string]any)
	if props["pci_passthrough:alias"] != "gpu:1, qat-c62x-vf:2" {
		t.Errorf("stored properties: %v", props)
	}
	// Rejected at 2.86 with Nova's message.
	for _, bad := range []string{"gpu: 1", "gpu"} {
		r := openstackCLI(t, dir, "--os-compute-api-version", "2.86", "flavor", "set",
			"--property", "pci_passthrough:alias="+bad, "hwcert-conf")
		want := "Validation failed; '" + bad + `' is not of the format '[^:]+:\d+(?:\s*,\s*[^:]+:\d+)*'.`
		if r.Err == nil || !strings.Contains(r.Stderr, want) || !strings.Contains(r.Stderr, "400") {
			t.Errorf("flavor set %q: want a 400 with %q\n%s", bad, want, r)
		}
	}
	// Without a microversion the CLI sends 2.61 (reference §2): Nova stores anything.
	if r := openstackCLI(t, dir, "flavor", "set", "--property", "pci_passthrough:alias=gpu: 1", "hwcert-conf"); r.Err != nil {
		t.Errorf("flavor set below 2.86 was validated: %s", r)
	}
	if r := openstackCLI(t, dir, "flavor", "delete", "hwcert-conf"); r.Err != nil {
		t.Fatalf("flavor delete: %s", r)
	}
	if r := openstackCLI(t, dir, "flavor", "show", "hwcert-conf"); r.Err == nil {
		t.Errorf("flavor still shown after delete: %s", r)
	}
}

func TestCLIServers(t *testing.T) {
	t.Parallel()
	dir := startMock(t, multiLab)
	cli := func(args ...string) cliResult {
		return openstackCLI(t, dir, append([]string{"--os-compute-api-version", "2.86"}, args...)...)
	}
	mustFlavor := func(name, alias string) {
		t.Helper()
		args := []string{"flavor", "create", "--ram", "1024", "--vcpus", "2", "--disk", "1", name}
		if alias != "" {
			args = append(args, "--property", "pci_passthrough:alias="+alias)
		}
		if r := cli(args...); r.Err != nil {
			t.Fatalf("flavor create %s: %s", name, r)
		}
	}
	mustFlavor("hwcert-vf1", "qat-c62x-vf:1")
	mustFlavor("hwcert-vf64", "qat-c62x-vf:64")
	mustFlavor("hwcert-undef", "qat-c3xxx-vf:1")
	capable := hostsWith(t, multiLab, "qat-c62x-vf", 1)
	if len(capable) == 0 || len(hostsWith(t, multiLab, "qat-c62x-vf", 64)) != 0 {
		t.Fatalf("the lab no longer fits this test: hosts with a C62x VF %v", capable)
	}

	// ACTIVE on a host that has the device, with the attributes the harness relies on.
	if r := cli("server", "create", "--wait", "--flavor", "hwcert-vf1", "--image", "cirros", "--nic", "none", "-f", "json", "hwcert-ok"); r.Err != nil {
		t.Fatalf("server create: %s", r)
	}
	show := jsonObject(t, cli("server", "show", "-f", "json", "hwcert-ok"))
	host, _ := show["OS-EXT-SRV-ATTR:host"].(string)
	if show["status"] != "ACTIVE" || !slices.Contains(capable, host) {
		t.Errorf("server: status %v on %q, want ACTIVE on one of %v", show["status"], host, capable)
	}
	if name, _ := show["OS-EXT-SRV-ATTR:instance_name"].(string); !regexp.MustCompile(`^instance-[0-9a-f]{8}$`).MatchString(name) {
		t.Errorf("instance name %q", name)
	}
	if show["OS-EXT-SRV-ATTR:hypervisor_hostname"] != host {
		t.Errorf("hypervisor_hostname %v, host %v", show["OS-EXT-SRV-ATTR:hypervisor_hostname"], host)
	}

	// ERROR with Nova's fault. OSC exits 0 here (it raises a bare SystemExit), so the status is
	// what the test checks.
	r := cli("server", "create", "--wait", "--flavor", "hwcert-vf64", "--image", "cirros", "--nic", "none", "hwcert-novalid")
	if !strings.Contains(r.Stdout+r.Stderr, "Error creating server") {
		t.Errorf("server create --wait of an unplaceable server: %s", r)
	}
	show = jsonObject(t, cli("server", "show", "-f", "json", "hwcert-novalid"))
	fault, _ := show["fault"].(map[string]any)
	if show["status"] != "ERROR" || fault["code"] != float64(500) ||
		fault["message"] != "No valid host was found. There are not enough hosts available." {
		t.Errorf("unplaceable server: status %v fault %v", show["status"], fault)
	}

	// Refused synchronously for an undefined alias: non-zero exit, Nova's message, no server.
	r = cli("server", "create", "--flavor", "hwcert-undef", "--image", "cirros", "--nic", "none", "hwcert-undef")
	if r.Err == nil || !strings.Contains(r.Stderr, "PCI alias qat-c3xxx-vf is not defined") || !strings.Contains(r.Stderr, "HTTP 400") {
		t.Errorf("undefined alias: %s", r)
	}
	list := cli("server", "list", "-f", "json")
	var servers []map[string]any
	if err := json.Unmarshal([]byte(list.Stdout), &servers); err != nil {
		t.Fatalf("server list: %v\n%s", err, list)
	}
	var names []string
	for _, s := range servers {
		names = append(names, s["Name"].(string))
	}
	slices.Sort(names)
	if !slices.Equal(names, []string{"hwcert-novalid", "hwcert-ok"}) {
		t.Errorf("servers %v, want hwcert-novalid and hwcert-ok", names)
	}

	// Deletes.
	if r := cli("server", "delete", "--wait", "hwcert-ok", "hwcert-novalid"); r.Err != nil {
		t.Fatalf("server delete: %s", r)
	}
	if r := cli("server", "list", "-f", "json"); strings.TrimSpace(r.Stdout) != "[]" {
		t.Errorf("servers left after delete: %s", r)
	}
	for _, f := range []string{"hwcert-vf1", "hwcert-vf64", "hwcert-undef"} {
		if r := cli("flavor", "delete", f); r.Err != nil {
			t.Errorf("flavor delete %s: %s", f, r)
		}
	}
}
