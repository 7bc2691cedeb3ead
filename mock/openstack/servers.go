package openstack

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"net/http"
	"sort"
	"strings"

	"github.com/hwcert/hwcert/mock/cloud"
)

const isoTime = "2006-01-02T15:04:05Z"

// hostID is Nova's obfuscated host id: sha224(project_id + host), "" without a host.
func hostID(host, project string) string {
	if host == "" {
		return ""
	}
	sum := sha256.Sum224([]byte(project + host))
	return hex.EncodeToString(sum[:])
}

// serverView is GET /servers/{id} for an admin (extended attributes visible).
func (a *API) serverView(r *http.Request, v microversion, s cloud.Server) map[string]any {
	out := map[string]any{
		"id":                                   s.ID,
		"name":                                 s.Name,
		"status":                               s.Status,
		"tenant_id":                            s.TenantID,
		"user_id":                              s.UserID,
		"metadata":                             orEmpty(s.Metadata),
		"hostId":                               hostID(s.Host, s.TenantID),
		"created":                              s.Created.Format(isoTime),
		"updated":                              s.Updated.Format(isoTime),
		"addresses":                            a.addresses(s),
		"accessIPv4":                           "",
		"accessIPv6":                           "",
		"links":                                a.links(r, "servers", s.ID),
		"key_name":                             nil,
		"config_drive":                         "",
		"OS-DCF:diskConfig":                    "MANUAL",
		"OS-EXT-AZ:availability_zone":          s.AvailabilityZone,
		"OS-EXT-SRV-ATTR:host":                 nullable(s.Host),
		"OS-EXT-SRV-ATTR:hypervisor_hostname":  nullable(s.Node),
		"OS-EXT-SRV-ATTR:instance_name":        s.InstanceName(),
		"OS-EXT-STS:vm_state":                  s.VMState,
		"OS-EXT-STS:task_state":                nullable(s.TaskState),
		"OS-EXT-STS:power_state":               s.PowerState,
		"OS-SRV-USG:launched_at":               nil,
		"OS-SRV-USG:terminated_at":             nil,
		"os-extended-volumes:volumes_attached": []any{},
		"security_groups":                      []any{map[string]any{"name": "default"}},
	}
	if !s.LaunchedAt.IsZero() {
		// Nova prints str() of a naive datetime here, not ISO 8601 with a Z.
		out["OS-SRV-USG:launched_at"] = s.LaunchedAt.Format("2006-01-02T15:04:05.000000")
	}
	if s.ImageID != "" {
		out["image"] = map[string]any{"id": s.ImageID, "links": []any{
			map[string]any{"rel": "bookmark", "href": a.baseURL(r) + ComputePrefix + "/images/" + s.ImageID},
		}}
	} else {
		out["image"] = ""
	}
	if v.atLeast(47) {
		out["flavor"] = map[string]any{
			"vcpus":         s.Flavor.VCPUs,
			"ram":           s.Flavor.RAMMB,
			"disk":          s.Flavor.DiskGB,
			"ephemeral":     s.Flavor.EphemeralGB,
			"swap":          s.Flavor.SwapMB,
			"original_name": s.Flavor.Name,
			"extra_specs":   s.Flavor.ExtraSpecs,
		}
	} else {
		out["flavor"] = map[string]any{"id": s.Flavor.ID, "links": []any{
			map[string]any{"rel": "bookmark", "href": a.baseURL(r) + ComputePrefix + "/flavors/" + s.Flavor.ID},
		}}
	}
	if s.Status == cloud.StatusBuild || s.Status == cloud.StatusActive {
		out["progress"] = 0
	}
	if s.Fault != nil && (s.Status == cloud.StatusError) {
		out["fault"] = map[string]any{
			"code":    s.Fault.Code,
			"created": s.Fault.Created.Format(isoTime),
			"message": s.Fault.Message,
		}
	}
	if v.atLeast(3) {
		out["OS-EXT-SRV-ATTR:hostname"] = hostnameOf(s.Name)
		out["OS-EXT-SRV-ATTR:kernel_id"] = ""
		out["OS-EXT-SRV-ATTR:ramdisk_id"] = ""
		out["OS-EXT-SRV-ATTR:launch_index"] = 0
		out["OS-EXT-SRV-ATTR:reservation_id"] = "r-" + s.ID[:8]
		out["OS-EXT-SRV-ATTR:root_device_name"] = nil
		out["OS-EXT-SRV-ATTR:user_data"] = nil
		if s.Status == cloud.StatusActive {
			out["OS-EXT-SRV-ATTR:root_device_name"] = "/dev/vda"
		}
	}
	if v.atLeast(9) {
		out["locked"] = false
	}
	if v.atLeast(16) {
		if s.Host != "" {
			out["host_status"] = "UP"
		} else {
			out["host_status"] = ""
		}
	}
	if v.atLeast(19) {
		out["description"] = nil
	}
	if v.atLeast(26) {
		out["tags"] = []any{}
	}
	if v.atLeast(63) {
		out["trusted_image_certificates"] = nil
	}
	if v.atLeast(71) {
		out["server_groups"] = []any{}
	}
	if v.atLeast(73) {
		out["locked_reason"] = nil
	}
	if v.atLeast(96) {
		out["pinned_availability_zone"] = nil
	}
	if v.atLeast(100) {
		out["scheduler_hints"] = map[string]any{}
	}
	return out
}

// hostnameOf sanitizes a display name the way Nova derives the guest hostname.
func hostnameOf(name string) string {
	var b strings.Builder
	for _, r := range strings.ToLower(name) {
		switch {
		case r >= 'a' && r <= 'z', r >= '0' && r <= '9', r == '-', r == '.':
			b.WriteRune(r)
		case r == ' ' || r == '_':
			b.WriteRune('-')
		}
	}
	h := strings.Trim(b.String(), "-.")
	if len(h) > 63 {
		h = h[:63]
	}
	if h == "" {
		return "server"
	}
	return h
}

func nullable(s string) any {
	if s == "" {
		return nil
	}
	return s
}

func orEmpty(m map[string]string) map[string]string {
	if m == nil {
		return map[string]string{}
	}
	return m
}

// listServers is GET /servers[/detail] with Nova's name (regex), status and host filters.
func (a *API) listServers(detail bool) computeHandler {
	return func(w http.ResponseWriter, r *http.Request, v microversion) {
		q := r.URL.Query()
		f := cloud.ServerFilter{
			Name:   q.Get("name"),
			Status: q.Get("status"),
			Host:   q.Get("host"),
			Flavor: q.Get("flavor"),
			Image:  q.Get("image"),
		}
		servers, err := a.cloud.Servers(f)
		if err != nil {
			cloudError(w, err)
			return
		}
		out := []any{}
		for _, s := range servers {
			if detail {
				out = append(out, a.serverView(r, v, s))
			} else {
				out = append(out, map[string]any{"id": s.ID, "name": s.Name, "links": a.links(r, "servers", s.ID)})
			}
		}
		writeJSON(w, http.StatusOK, map[string]any{"servers": out})
	}
}

func (a *API) showServer(w http.ResponseWriter, r *http.Request, v microversion) {
	s, err := a.cloud.Server(r.PathValue("id"))
	if err != nil {
		cloudError(w, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"server": a.serverView(r, v, s)})
}

func (a *API) deleteServer(w http.ResponseWriter, r *http.Request, _ microversion) {
	if err := a.cloud.DeleteServer(r.PathValue("id")); err != nil {
		cloudError(w, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

// idFromHref takes the last path segment of a reference, as Nova's common.get_id_from_href.
func idFromHref(ref string) string {
	ref = strings.TrimRight(ref, "/")
	if i := strings.LastIndex(ref, "/"); i >= 0 {
		return ref[i+1:]
	}
	return ref
}

// serverKeys are the POST /servers keys the mock understands; the microversion gates some.
var serverKeys = map[string]int{
	"name": 1, "imageRef": 1, "flavorRef": 1, "networks": 1, "availability_zone": 1,
	"metadata": 1, "min_count": 1, "max_count": 1, "return_reservation_id": 1,
	"security_groups": 1, "user_data": 1, "config_drive": 1, "key_name": 1,
	"adminPass": 1, "accessIPv4": 1, "accessIPv6": 1, "OS-DCF:diskConfig": 1,
	"block_device_mapping_v2": 1, "personality": 1,
	"description": 19, "tags": 52, "host": 74, "hypervisor_hostname": 74, "hostname": 90,
}

// maxServersPerRequest bounds max_count: the mock creates that many servers at once.
const maxServersPerRequest = 1000

// createServer is POST /servers: the request is checked synchronously (shape, destination,
// image, flavor, PCI aliases), then the server is accepted in BUILD with 202.
func (a *API) createServer(w http.ResponseWriter, r *http.Request, v microversion) {
	raw, ok := readObject(w, r, "server")
	if !ok {
		return
	}
	var extra []string
	for k := range raw {
		if since, known := serverKeys[k]; !known || !v.atLeast(since) {
			extra = append(extra, "'"+k+"'")
		}
	}
	if len(extra) > 0 {
		sort.Strings(extra)
		verb := "was"
		if len(extra) > 1 {
			verb = "were"
		}
		novaError(w, http.StatusBadRequest, schemaError("server", raw,
			fmt.Sprintf("Additional properties are not allowed (%s %s unexpected)", strings.Join(extra, ", "), verb)))
		return
	}
	required := []string{"name", "flavorRef"}
	if v.atLeast(37) {
		required = append(required, "networks")
	}
	for _, k := range required {
		if _, ok := raw[k]; !ok {
			novaError(w, http.StatusBadRequest, schemaError("server", raw, "'"+k+"' is a required property"))
			return
		}
	}
	req := cloud.ServerRequest{TenantID: a.creds.ProjectID, UserID: a.creds.UserID}
	strField := func(key string, dst *string, maxLen int) bool {
		val, present := raw[key]
		if !present || val == nil {
			return true
		}
		s, ok := val.(string)
		if !ok {
			novaError(w, http.StatusBadRequest, schemaError(key, val, fmt.Sprintf("%s is not of type 'string'", pyRepr(val))))
			return false
		}
		if maxLen > 0 && len(s) > maxLen {
			novaError(w, http.StatusBadRequest, schemaError(key, val, fmt.Sprintf("'%s' is too long", s)))
			return false
		}
		*dst = s
		return true
	}
	var flavorRef, imageRef string
	if !strField("name", &req.Name, 255) || !strField("flavorRef", &flavorRef, 0) || !strField("imageRef", &imageRef, 0) ||
		!strField("availability_zone", &req.AvailabilityZone, 255) || !strField("host", &req.Host, 255) ||
		!strField("hypervisor_hostname", &req.HypervisorHostname, 255) {
		return
	}
	if strings.TrimSpace(req.Name) == "" || strings.TrimSpace(req.Name) != req.Name {
		novaError(w, http.StatusBadRequest, schemaError("name", req.Name, "expected a non-empty name without leading or trailing whitespace"))
		return
	}
	req.FlavorRef = idFromHref(flavorRef)
	req.ImageRef = idFromHref(imageRef)
	nets, msg := checkNetworks(raw["networks"], v)
	if msg != "" {
		novaError(w, http.StatusBadRequest, msg)
		return
	}
	req.Networks = nets
	if md, present := raw["metadata"]; present {
		m, ok := md.(map[string]any)
		if !ok {
			novaError(w, http.StatusBadRequest, schemaError("metadata", md, fmt.Sprintf("%s is not of type 'object'", pyRepr(md))))
			return
		}
		req.Metadata = map[string]string{}
		for k, val := range m {
			s, ok := val.(string)
			if !ok {
				novaError(w, http.StatusBadRequest, schemaError("metadata/"+k, val, fmt.Sprintf("%s is not of type 'string'", pyRepr(val))))
				return
			}
			req.Metadata[k] = s
		}
	}
	// min_count and max_count (max defaults to min) as nova-api reads them; quotas are not
	// modelled, so max_count servers are created and scheduled together.
	counts := map[string]int{"min_count": 1}
	for _, k := range []string{"min_count", "max_count"} {
		if val, present := raw[k]; present {
			n, msg := flavorInt(val, 1)
			if msg != "" {
				novaError(w, http.StatusBadRequest, schemaError(k, val, msg))
				return
			}
			counts[k] = n
		}
	}
	if _, present := counts["max_count"]; !present {
		counts["max_count"] = counts["min_count"]
	}
	if counts["min_count"] > counts["max_count"] {
		novaError(w, http.StatusBadRequest, "min_count must be <= max_count")
		return
	}
	if counts["max_count"] > maxServersPerRequest {
		// Nova would stop here at the instances quota (10 by default); the mock has no quotas and
		// bounds what one request can make it hold instead.
		novaError(w, http.StatusForbidden, fmt.Sprintf("Quota exceeded for instances: Requested %d, but already used 0 of %d instances",
			counts["max_count"], maxServersPerRequest))
		return
	}
	req.Count = counts["max_count"]
	s, err := a.cloud.CreateServer(req)
	if err != nil {
		cloudError(w, err)
		return
	}
	a.log.Info("server accepted", "id", s.ID, "name", s.Name, "flavor", s.Flavor.Name, "instance", s.InstanceName())
	self := a.baseURL(r) + v21 + "/servers/" + s.ID
	w.Header().Set("Location", self)
	writeJSON(w, http.StatusAccepted, map[string]any{"server": map[string]any{
		"id":                s.ID,
		"links":             a.links(r, "servers", s.ID),
		"OS-DCF:diskConfig": "MANUAL",
		"security_groups":   []any{map[string]any{"name": "default"}},
		"adminPass":         randomHex(6),
	}})
}

// checkNetworks validates "networks": "none"/"auto" from 2.37, or a list of requests. Only
// networks by uuid are served: the mock's Neutron has no ports but those Nova creates, so a
// request naming a port names one that does not exist.
func checkNetworks(val any, v microversion) ([]cloud.NetworkRequest, string) {
	switch x := val.(type) {
	case nil:
		return nil, ""
	case string:
		if !v.atLeast(37) {
			return nil, schemaError("networks", x, fmt.Sprintf("'%s' is not of type 'array'", x))
		}
		if x != "none" && x != "auto" {
			return nil, schemaError("networks", x, fmt.Sprintf("'%s' is not one of ['none', 'auto']", x))
		}
		return nil, ""
	case []any:
		var out []cloud.NetworkRequest
		for _, n := range x {
			m, ok := n.(map[string]any)
			if !ok {
				return nil, schemaError("networks", n, fmt.Sprintf("%s is not of type 'object'", pyRepr(n)))
			}
			if port, ok := m["port"].(string); ok && port != "" {
				return nil, fmt.Sprintf("Port id %s could not be found.", port)
			}
			id, _ := m["uuid"].(string)
			if id == "" {
				continue
			}
			if !isUUIDText(id) {
				return nil, schemaError("uuid", id, fmt.Sprintf("'%s' is not a 'uuid'", id))
			}
			out = append(out, cloud.NetworkRequest{UUID: id})
		}
		return out, ""
	default:
		return nil, schemaError("networks", val, fmt.Sprintf("%s is not of type 'array', 'string'", pyRepr(val)))
	}
}

// addresses is the server's network info as Nova shows it: per network name, the fixed IPs of
// its ports with their MAC.
func (a *API) addresses(s cloud.Server) map[string]any {
	out := map[string]any{}
	for _, p := range s.Ports {
		n, ok := a.cloud.Network(p.NetworkID)
		if !ok {
			continue
		}
		list, _ := out[n.Name].([]any)
		out[n.Name] = append(list, map[string]any{
			"version": 4, "addr": p.IP.String(), "OS-EXT-IPS:type": "fixed", "OS-EXT-IPS-MAC:mac_addr": p.MAC,
		})
	}
	return out
}
