//go:build conformance

package conformance

import (
	"encoding/json"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/hwcert/hwcert/config"
)

// jsonRows decodes the JSON list a `-f json` listing prints and checks that every row has
// exactly the columns the CLI prints for a real cloud.
func jsonRows(t *testing.T, r cliResult, what string, columns ...string) []map[string]any {
	t.Helper()
	if r.Err != nil {
		t.Fatalf("%s: %s", what, r)
	}
	var rows []map[string]any
	if err := json.Unmarshal([]byte(r.Stdout), &rows); err != nil {
		t.Fatalf("%s: not a JSON list: %v\n%s", what, err, r)
	}
	for _, row := range rows {
		var got []string
		for k := range row {
			got = append(got, k)
		}
		slices.Sort(got)
		want := slices.Clone(columns)
		slices.Sort(want)
		if !slices.Equal(got, want) {
			t.Errorf("%s: columns %v, want %v", what, got, want)
		}
	}
	return rows
}

// TestCLINetworkAndLifecycle drives the commands a QA engineer types around a certification
// boot: the network the mock's hwcert.yaml names, the port Nova made, the availability zones,
// stop/start/reboots with their events, and the operator views (services, hypervisor, limits,
// usage).
func TestCLINetworkAndLifecycle(t *testing.T) {
	t.Parallel()
	dir := startMock(t, virshLab)
	cli := func(args ...string) cliResult { return openstackCLI(t, dir, args...) }
	cfg, err := config.Load(dir + "/hwcert.yaml")
	if err != nil {
		t.Fatal(err)
	}
	nets := jsonRows(t, cli("network", "list", "-f", "json"), "network list", "ID", "Name", "Subnets")
	if len(nets) != 1 || nets[0]["Name"] != cfg.Network {
		t.Fatalf("network list %v: want the one network the mock's hwcert.yaml boots on (%q)", nets, cfg.Network)
	}
	show := jsonObject(t, cli("network", "show", "-f", "json", cfg.Network))
	if show["id"] != nets[0]["ID"] || show["status"] != "ACTIVE" {
		t.Errorf("network show %s: %v", cfg.Network, show)
	}

	zones := jsonRows(t, cli("availability", "zone", "list", "--long", "-f", "json"), "availability zone list --long",
		"Zone Name", "Zone Status", "Zone Resource", "Host Name", "Service Name", "Service Status")
	var seen []string
	for _, z := range zones {
		seen = append(seen, z["Zone Resource"].(string)+"/"+z["Service Name"].(string))
		if z["Service Name"] == "nova-compute" && !regexp.MustCompile(`^enabled :-\) \d{4}-\d\d-\d\dT`).MatchString(z["Service Status"].(string)) {
			t.Errorf("nova-compute service status %q, want enabled :-) and a time", z["Service Status"])
		}
	}
	for _, want := range []string{"/nova-compute", "/nova-conductor", "network/", "router/"} {
		if !slices.Contains(seen, want) {
			t.Errorf("availability zone list --long: no %s row in %v", want, seen)
		}
	}

	if r := cli("flavor", "create", "--ram", "1024", "--vcpus", "2", "--disk", "1", "--property", "pci_passthrough:alias=qat-c62x-vf:1", "hwcert-lc"); r.Err != nil {
		t.Fatalf("flavor create: %s", r)
	}
	if r := cli("--os-compute-api-version", "2.74", "server", "create", "--wait", "--flavor", "hwcert-lc", "--image", "cirros", "--network", cfg.Network, "hwcert-lc"); r.Err != nil {
		t.Fatalf("server create --network %s: %s", cfg.Network, r)
	}
	srv := jsonObject(t, cli("server", "show", "-f", "json", "hwcert-lc"))
	addrs, _ := srv["addresses"].(map[string]any)
	ip, _ := addrs[cfg.Network].([]any)
	if srv["status"] != "ACTIVE" || len(ip) != 1 {
		t.Fatalf("server on %s: status %v addresses %v", cfg.Network, srv["status"], srv["addresses"])
	}
	ports := jsonRows(t, cli("port", "list", "--server", "hwcert-lc", "-f", "json"), "port list --server",
		"ID", "Name", "MAC Address", "Fixed IP Addresses", "Status")
	if len(ports) != 1 || !strings.Contains(jsonText(ports[0]["Fixed IP Addresses"]), ip[0].(string)) {
		t.Errorf("port list --server: %v, server address %v", ports, ip)
	}

	// Stop, start, hard and soft reboot; each ends where Nova ends it.
	for _, step := range []struct {
		args   []string
		status string
	}{
		{[]string{"server", "stop", "hwcert-lc"}, "SHUTOFF"},
		{[]string{"server", "start", "hwcert-lc"}, "ACTIVE"},
		{[]string{"server", "reboot", "--hard", "--wait", "hwcert-lc"}, "ACTIVE"},
		{[]string{"server", "reboot", "--soft", "--wait", "hwcert-lc"}, "ACTIVE"},
	} {
		if r := cli(step.args...); r.Err != nil {
			t.Fatalf("%s: %s", strings.Join(step.args, " "), r)
		}
		waitCLIStatus(t, cli, "hwcert-lc", step.status)
	}
	if r := cli("server", "start", "hwcert-lc"); r.Err == nil || !strings.Contains(r.Stderr, "while it is in vm_state active") || !strings.Contains(r.Stderr, "409") {
		t.Errorf("start of a running server: want Nova's 409\n%s", r)
	}
	events := jsonRows(t, cli("server", "event", "list", "hwcert-lc", "-f", "json"), "server event list",
		"Request ID", "Server ID", "Action", "Start Time")
	var actions []string
	for _, e := range events {
		actions = append(actions, e["Action"].(string))
	}
	if strings.Join(actions, ",") != "reboot,reboot,start,stop,create" {
		t.Errorf("server event list: actions %v", actions)
	}
	ev := jsonObject(t, cli("--os-compute-api-version", "2.84", "server", "event", "show", "hwcert-lc", events[len(events)-1]["Request ID"].(string), "-f", "json"))
	if ev["action"] != "create" || !strings.Contains(jsonText(ev["events"]), "compute__do_build_and_run_instance") {
		t.Errorf("server event show of the create: %v", ev)
	}

	// A failed boot's create event carries the fault.
	if r := cli("flavor", "create", "--ram", "1024", "--vcpus", "2", "--disk", "1", "--property", "pci_passthrough:alias=qat-c62x-vf:64", "hwcert-lc64"); r.Err != nil {
		t.Fatalf("flavor create: %s", r)
	}
	cli("server", "create", "--wait", "--flavor", "hwcert-lc64", "--image", "cirros", "--network", cfg.Network, "hwcert-lc64")
	failed := jsonRows(t, cli("server", "event", "list", "--long", "hwcert-lc64", "-f", "json"), "server event list --long",
		"Request ID", "Server ID", "Action", "Start Time", "Message", "Project ID", "User ID")
	if len(failed) != 1 || failed[0]["Message"] != "Error" {
		t.Errorf("events of a failed boot: %v", failed)
	} else {
		ev := jsonObject(t, cli("--os-compute-api-version", "2.84", "server", "event", "show", "hwcert-lc64", failed[0]["Request ID"].(string), "-f", "json"))
		if !strings.Contains(jsonText(ev["events"]), "No valid host was found.") {
			t.Errorf("the failed create event has no fault: %v", ev["events"])
		}
	}

	svcs := jsonRows(t, cli("compute", "service", "list", "-f", "json"), "compute service list",
		"ID", "Binary", "Host", "Zone", "Status", "State", "Updated At")
	if !slices.ContainsFunc(svcs, func(s map[string]any) bool {
		return s["Binary"] == "nova-compute" && s["Host"] == virshHost && s["State"] == "up"
	}) {
		t.Errorf("compute service list has no nova-compute up on %s: %v", virshHost, svcs)
	}
	for _, mv := range []string{"2.1", "2.88"} {
		hv := jsonObject(t, cli("--os-compute-api-version", mv, "hypervisor", "show", virshHost, "-f", "json"))
		if up, _ := hv["uptime"].(string); !regexp.MustCompile(`^\d+:\d\d$|days`).MatchString(up) || hv["host_time"] == nil {
			t.Errorf("hypervisor show at %s: uptime %v host_time %v", mv, hv["uptime"], hv["host_time"])
		}
	}
	limits := jsonRows(t, cli("limits", "show", "--absolute", "-f", "json"), "limits show --absolute", "Name", "Value")
	if !slices.ContainsFunc(limits, func(l map[string]any) bool { return l["Name"] == "totalInstancesUsed" && l["Value"] == 2.0 }) {
		t.Errorf("limits show --absolute: no totalInstancesUsed 2 in %v", limits)
	}
	for _, mv := range []string{"2.1", "2.40"} {
		usage := jsonRows(t, cli("--os-compute-api-version", mv, "usage", "list", "-f", "json"), "usage list at "+mv,
			"Project", "Servers", "RAM MB-Hours", "CPU Hours", "Disk GB-Hours")
		if len(usage) != 1 || len(usage[0]["Servers"].([]any)) != 2 {
			t.Errorf("usage list at %s: %v", mv, usage)
		}
	}
	if u := jsonObject(t, cli("usage", "show", "-f", "json")); len(u["Servers"].([]any)) != 2 {
		t.Errorf("usage show: %v", u)
	}

	if r := cli("server", "delete", "--wait", "hwcert-lc", "hwcert-lc64"); r.Err != nil {
		t.Fatalf("server delete: %s", r)
	}
	if ports := jsonRows(t, cli("port", "list", "-f", "json"), "port list", "ID", "Name", "MAC Address", "Fixed IP Addresses", "Status"); len(ports) != 0 {
		t.Errorf("ports left after the servers were deleted: %v", ports)
	}
}

func jsonText(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}

// waitCLIStatus polls `server show` until the server has the status and no task state.
func waitCLIStatus(t *testing.T, cli func(...string) cliResult, name, status string) {
	t.Helper()
	deadline := time.Now().Add(time.Minute)
	var last map[string]any
	for time.Now().Before(deadline) {
		last = jsonObject(t, cli("server", "show", "-f", "json", "-c", "status", "-c", "OS-EXT-STS:task_state", name))
		if last["status"] == status && last["OS-EXT-STS:task_state"] == nil {
			return
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Fatalf("server %s: last %v, want %s with no task", name, last, status)
}
