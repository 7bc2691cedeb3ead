package openstack

import (
	"crypto/sha1"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/hwcert/hwcert/mock/cloud"
	"github.com/hwcert/hwcert/mock/lab"
)

// localGB is the disk every mock host reports; the mock does not model storage.
const localGB = 500

// computeNodeUUID is a stable id for a host's compute node (Nova's compute_nodes.uuid), derived
// from the host name so that runs of the same lab agree.
func computeNodeUUID(host string) string {
	sum := sha1.Sum([]byte("hwcert compute node " + host))
	sum[6] = sum[6]&0x0f | 0x50
	sum[8] = sum[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", sum[0:4], sum[4:6], sum[6:8], sum[8:10], sum[10:16])
}

func serviceUUID(host string) string { return computeNodeUUID("nova-compute@" + host) }

// hypervisorView follows nova/api/openstack/compute/hypervisors.py _view_hypervisor: UUID ids
// from 2.53, resource fields only before 2.88, uptime from 2.88.
func (a *API) hypervisorView(v microversion, index int, h *lab.Host, detail, withServers bool) map[string]any {
	out := map[string]any{
		"hypervisor_hostname": h.Name,
		"state":               "up",
		"status":              "enabled",
	}
	if v.atLeast(53) {
		out["id"] = computeNodeUUID(h.Name)
	} else {
		out["id"] = index + 1
	}
	if detail {
		out["hypervisor_type"] = "QEMU"
		out["hypervisor_version"] = 7002000
		out["host_ip"] = "127.0.0.1"
		svc := map[string]any{"host": h.Name, "disabled_reason": nil}
		if v.atLeast(53) {
			svc["id"] = serviceUUID(h.Name)
		} else {
			svc["id"] = index + 1
		}
		out["service"] = svc
	}
	if detail && !v.atLeast(88) {
		inv, _ := a.cloud.Inventory(h.Name)
		vcpus := 0
		if inv != nil {
			vcpus = len(inv.CPUs)
		}
		mem := 0
		for _, n := range h.NUMANodes {
			mem += n.MemoryMB
		}
		u := a.cloud.Usage(h.Name)
		out["vcpus"] = vcpus
		out["memory_mb"] = mem
		out["local_gb"] = localGB
		out["vcpus_used"] = u.VCPUsUsed
		out["memory_mb_used"] = u.MemoryMBUsed
		out["local_gb_used"] = u.DiskGBUsed
		out["free_ram_mb"] = mem - u.MemoryMBUsed
		out["free_disk_gb"] = localGB - u.DiskGBUsed
		out["current_workload"] = 0
		out["running_vms"] = u.RunningVMs
		out["disk_available_least"] = localGB - u.DiskGBUsed
		cpuInfo := map[string]any{
			"arch": "x86_64", "model": "Cascadelake-Server", "vendor": "Intel",
			"topology": map[string]any{"sockets": len(h.Sockets()), "cores": coresPerSocket(h), "threads": threadsPerCore(h)},
			"features": []string{},
		}
		if v.atLeast(28) {
			out["cpu_info"] = cpuInfo
		} else {
			out["cpu_info"] = pyRepr(cpuInfo)
		}
	}
	if detail && v.atLeast(88) {
		out["uptime"] = a.uptimeText(time.Now())
	}
	if withServers && v.atLeast(53) {
		var list []any
		servers, _ := a.cloud.Servers(cloud.ServerFilter{Host: h.Name})
		for _, s := range servers {
			list = append(list, map[string]any{"name": s.InstanceName(), "uuid": s.ID})
		}
		if len(list) > 0 || v.atLeast(75) {
			if list == nil {
				list = []any{}
			}
			out["servers"] = list
		}
	}
	return out
}

func coresPerSocket(h *lab.Host) int {
	sockets := len(h.Sockets())
	if sockets == 0 {
		return 0
	}
	cores := 0
	for _, n := range h.NUMANodes {
		cores += len(n.Cores)
	}
	return cores / sockets
}

func threadsPerCore(h *lab.Host) int {
	for _, n := range h.NUMANodes {
		for _, c := range n.Cores {
			count := 1
			for _, r := range c {
				if r == ',' || r == '-' {
					count++
				}
			}
			return count
		}
	}
	return 1
}

// listHypervisors is GET /os-hypervisors[/detail], with 2.53's hypervisor_hostname_pattern
// (a substring match in Nova) and with_servers.
func (a *API) listHypervisors(detail bool) computeHandler {
	return func(w http.ResponseWriter, r *http.Request, v microversion) {
		q := r.URL.Query()
		pattern := q.Get("hypervisor_hostname_pattern")
		withServers := false
		if s := q.Get("with_servers"); s != "" {
			b, ok := boolValue(s)
			if !ok || !v.atLeast(53) {
				novaError(w, http.StatusBadRequest, schemaError("with_servers", s, "expected a boolean"))
				return
			}
			withServers = b
		}
		out := []any{}
		for i := range a.cloud.Lab().Hosts {
			h := &a.cloud.Lab().Hosts[i]
			if pattern != "" && !strings.Contains(h.Name, pattern) {
				continue
			}
			out = append(out, a.hypervisorView(v, i, h, detail, withServers))
		}
		if pattern != "" && len(out) == 0 {
			novaError(w, http.StatusNotFound, fmt.Sprintf("No hypervisor matching '%s' could be found.", pattern))
			return
		}
		writeJSON(w, http.StatusOK, map[string]any{"hypervisors": out})
	}
}

func (a *API) showHypervisor(w http.ResponseWriter, r *http.Request, v microversion) {
	i, ok := a.hypervisorIndex(w, r.PathValue("id"), v)
	if !ok {
		return
	}
	withServers := false
	if s := r.URL.Query().Get("with_servers"); s != "" {
		withServers, _ = boolValue(s)
	}
	writeJSON(w, http.StatusOK, map[string]any{"hypervisor": a.hypervisorView(v, i, &a.cloud.Lab().Hosts[i], true, withServers)})
}

// hypervisorIndex finds the host of a hypervisor id (an integer before 2.53, a UUID from then
// on), or answers Nova's 400/404.
func (a *API) hypervisorIndex(w http.ResponseWriter, id string, v microversion) (int, bool) {
	for i, h := range a.cloud.Lab().Hosts {
		match := false
		if v.atLeast(53) {
			match = id == computeNodeUUID(h.Name)
		} else {
			n, err := strconv.Atoi(id)
			match = err == nil && n == i+1
		}
		if match {
			return i, true
		}
	}
	if v.atLeast(53) && !isUUIDText(id) {
		novaError(w, http.StatusBadRequest, fmt.Sprintf("Invalid uuid %s", id))
		return 0, false
	}
	novaError(w, http.StatusNotFound, fmt.Sprintf("Hypervisor with ID %s could not be found.", id))
	return 0, false
}

func isUUIDText(s string) bool {
	if len(s) != 36 {
		return false
	}
	for i, r := range s {
		if i == 8 || i == 13 || i == 18 || i == 23 {
			if r != '-' {
				return false
			}
			continue
		}
		if !(r >= '0' && r <= '9' || r >= 'a' && r <= 'f' || r >= 'A' && r <= 'F') {
			return false
		}
	}
	return true
}
