package openstack

import (
	"fmt"
	"net/http"
	"slices"
	"strings"

	"github.com/hwcert/hwcert/mock/cloud"
)

// NetworkPrefix is where the minimal Neutron is served, as on devstack.
const NetworkPrefix = "/networking"

// neutronEpoch is the creation time of the fixed networks.
const neutronEpoch = "2024-01-01T00:00:00Z"

// Neutron answers the part of the v2.0 API that clients need to boot on a network and to see the
// ports Nova made: networks, subnets and ports (list with Neutron's field filters, show), the
// extension list and the availability zones.
func (a *API) routeNetwork() {
	a.mux.HandleFunc("GET "+NetworkPrefix, a.networkVersions)
	a.mux.HandleFunc("GET "+NetworkPrefix+"/{$}", a.networkVersions)
	route := func(path string, h http.HandlerFunc) {
		a.mux.HandleFunc("GET "+NetworkPrefix+"/v2.0"+path, a.requireToken(neutronUnauthorized, h))
	}
	route("/networks", a.neutronList("networks", a.networkViews))
	route("/networks/{id}", a.neutronShow("network", "Network", a.networkViews))
	route("/subnets", a.neutronList("subnets", a.subnetViews))
	route("/subnets/{id}", a.neutronShow("subnet", "Subnet", a.subnetViews))
	route("/ports", a.neutronList("ports", a.portViews))
	route("/ports/{id}", a.neutronShow("port", "Port", a.portViews))
	route("/extensions", a.listExtensions)
	route("/extensions/{alias}", a.showExtension)
	route("/availability_zones", a.listNetworkZones)
}

func neutronUnauthorized(w http.ResponseWriter, _ *http.Request) {
	writeJSON(w, http.StatusUnauthorized, map[string]any{"NeutronError": map[string]any{
		"type": "HTTPUnauthorized", "message": "The request you have made requires authentication.", "detail": "",
	}})
}

// neutronError is Neutron's fault body, {"NeutronError": {"type": ..., "message": ..., "detail": ""}}.
func neutronError(w http.ResponseWriter, code int, typ, message string) {
	writeJSON(w, code, map[string]any{"NeutronError": map[string]any{"type": typ, "message": message, "detail": ""}})
}

func (a *API) networkVersions(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, http.StatusOK, map[string]any{"versions": []any{map[string]any{
		"id": "v2.0", "status": "CURRENT",
		"links": []any{map[string]any{"rel": "self", "href": a.baseURL(r) + NetworkPrefix + "/v2.0/"}},
	}}})
}

func (a *API) networkViews() []map[string]any {
	var out []map[string]any
	for _, n := range a.cloud.Networks() {
		out = append(out, map[string]any{
			"id": n.ID, "name": n.Name, "tenant_id": a.creds.ProjectID, "project_id": a.creds.ProjectID,
			"admin_state_up": true, "status": "ACTIVE", "shared": false, "mtu": 1442,
			"subnets":                 []string{n.SubnetID},
			"availability_zone_hints": []string{}, "availability_zones": []string{defaultZone},
			"ipv4_address_scope": nil, "ipv6_address_scope": nil,
			"router:external": false, "port_security_enabled": true, "is_default": false,
			"provider:network_type": "geneve", "provider:physical_network": nil, "provider:segmentation_id": n.SegmentationID,
			"description": "", "tags": []string{}, "revision_number": 2,
			"created_at": neutronEpoch, "updated_at": neutronEpoch,
		})
	}
	return out
}

func (a *API) subnetViews() []map[string]any {
	var out []map[string]any
	for _, n := range a.cloud.Networks() {
		first, last := n.Gateway.Next(), n.CIDR.Addr()
		for a := first; n.CIDR.Contains(a.Next()); a = a.Next() {
			last = a
		}
		out = append(out, map[string]any{
			"id": n.SubnetID, "name": n.SubnetName, "network_id": n.ID,
			"tenant_id": a.creds.ProjectID, "project_id": a.creds.ProjectID,
			"ip_version": 4, "cidr": n.CIDR.String(), "gateway_ip": n.Gateway.String(),
			"allocation_pools": []any{map[string]any{"start": first.String(), "end": last.String()}},
			"enable_dhcp":      true, "dns_nameservers": []string{}, "host_routes": []any{},
			"ipv6_ra_mode": nil, "ipv6_address_mode": nil, "subnetpool_id": nil, "segment_id": nil,
			"service_types": []string{}, "description": "", "tags": []string{}, "revision_number": 0,
			"created_at": neutronEpoch, "updated_at": neutronEpoch,
		})
	}
	return out
}

func (a *API) portViews() []map[string]any {
	var out []map[string]any
	for _, p := range a.cloud.Ports() {
		created := p.Created.Format(isoTime)
		out = append(out, portView(p, created))
	}
	return out
}

// portView is a port bound to its server's host by nova-compute (OVN's vif type and details).
func portView(p cloud.Port, created string) map[string]any {
	return map[string]any{
		"id": p.ID, "name": "", "network_id": p.NetworkID,
		"tenant_id": p.TenantID, "project_id": p.TenantID,
		"mac_address": p.MAC, "admin_state_up": true, "status": "ACTIVE",
		"device_id": p.DeviceID, "device_owner": "compute:" + p.Zone,
		"fixed_ips":         []any{map[string]any{"subnet_id": p.SubnetID, "ip_address": p.IP.String()}},
		"binding:host_id":   p.Host,
		"binding:vif_type":  "ovs",
		"binding:vnic_type": "normal",
		"binding:profile":   map[string]any{},
		"binding:vif_details": map[string]any{
			"port_filter": true, "connectivity": "l2", "bridge_name": "br-int", "datapath_type": "system",
		},
		"security_groups": []string{}, "allowed_address_pairs": []any{}, "extra_dhcp_opts": []any{},
		"port_security_enabled": true, "dns_name": "", "dns_assignment": []any{},
		"description": "", "tags": []string{}, "revision_number": 4,
		"created_at": created, "updated_at": created,
	}
}

// neutronQuery are the list parameters that are not field filters.
var neutronQuery = map[string]bool{"fields": true, "limit": true, "marker": true, "sort_key": true, "sort_dir": true, "page_reverse": true}

// neutronList lists a collection with Neutron's filters: every other query parameter names a
// field that must equal one of the given values; `fields` selects the fields shown.
func (a *API) neutronList(collection string, views func() []map[string]any) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		q := r.URL.Query()
		out := []any{}
		for _, v := range views() {
			if matchesFilters(v, q) {
				out = append(out, selectFields(v, q["fields"]))
			}
		}
		writeJSON(w, http.StatusOK, map[string]any{collection: out})
	}
}

func matchesFilters(v map[string]any, q map[string][]string) bool {
	for key, want := range q {
		if neutronQuery[key] {
			continue
		}
		got, ok := v[key]
		if !ok {
			// Neutron ignores filters on attributes it does not know of this resource.
			continue
		}
		s := fmt.Sprint(got)
		_, isBool := got.(bool)
		if !slices.ContainsFunc(want, func(w string) bool { return s == w || isBool && strings.EqualFold(s, w) }) {
			return false
		}
	}
	return true
}

func selectFields(v map[string]any, fields []string) map[string]any {
	if len(fields) == 0 {
		return v
	}
	out := map[string]any{}
	for _, f := range fields {
		if val, ok := v[f]; ok {
			out[f] = val
		}
	}
	return out
}

// neutronShow answers GET /v2.0/<collection>/{id}, with Neutron's NotFound (e.g. NetworkNotFound,
// "Network X could not be found.").
func (a *API) neutronShow(key, kind string, views func() []map[string]any) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		id := r.PathValue("id")
		for _, v := range views() {
			if v["id"] == id {
				writeJSON(w, http.StatusOK, map[string]any{key: selectFields(v, r.URL.Query()["fields"])})
				return
			}
		}
		neutronError(w, http.StatusNotFound, kind+"NotFound", fmt.Sprintf("%s %s could not be found.", kind, id))
	}
}

// extensions are those of the minimal Neutron that clients look for by name.
var extensions = []map[string]any{
	{"alias": "availability_zone", "name": "Availability Zone", "description": "The availability zone extension.", "updated": "2015-01-01T10:00:00-00:00", "links": []any{}},
	{"alias": "binding", "name": "Port Binding", "description": "Expose port bindings of a virtual port to external application", "updated": "2014-02-03T10:00:00-00:00", "links": []any{}},
	{"alias": "provider", "name": "Provider Network", "description": "Expose mapping of virtual networks to physical networks", "updated": "2012-09-07T10:00:00-00:00", "links": []any{}},
	{"alias": "network_availability_zone", "name": "Network Availability Zone", "description": "Availability zone support for network.", "updated": "2015-01-01T10:00:00-00:00", "links": []any{}},
}

func (a *API) listExtensions(w http.ResponseWriter, _ *http.Request) {
	writeJSON(w, http.StatusOK, map[string]any{"extensions": extensions})
}

func (a *API) showExtension(w http.ResponseWriter, r *http.Request) {
	alias := r.PathValue("alias")
	for _, e := range extensions {
		if e["alias"] == alias {
			writeJSON(w, http.StatusOK, map[string]any{"extension": e})
			return
		}
	}
	neutronError(w, http.StatusNotFound, "HTTPNotFound", fmt.Sprintf("Extension with alias %s does not exist", alias))
}

// listNetworkZones is the one zone Neutron's agents report, for networks and routers.
func (a *API) listNetworkZones(w http.ResponseWriter, _ *http.Request) {
	writeJSON(w, http.StatusOK, map[string]any{"availability_zones": []any{
		map[string]any{"name": defaultZone, "resource": "network", "state": "available"},
		map[string]any{"name": defaultZone, "resource": "router", "state": "available"},
	}})
}
