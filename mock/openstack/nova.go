package openstack

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"

	"github.com/hwcert/hwcert/mock/cloud"
)

// computeHandler is a Nova handler with its negotiated microversion.
type computeHandler func(w http.ResponseWriter, r *http.Request, v microversion)

const v21 = ComputePrefix + "/v2.1"

func (a *API) routeCompute() {
	a.mux.HandleFunc("GET "+ComputePrefix, a.computeVersions)
	a.mux.HandleFunc("GET "+ComputePrefix+"/{$}", a.computeVersions)
	a.mux.HandleFunc("GET "+v21, a.computeVersion)
	a.mux.HandleFunc("GET "+v21+"/{$}", a.computeVersion)

	route := func(pattern string, h computeHandler) {
		method, path, _ := strings.Cut(pattern, " ")
		a.mux.HandleFunc(method+" "+v21+path, a.compute(h))
	}
	route("GET /flavors", a.listFlavors(false))
	route("GET /flavors/detail", a.listFlavors(true))
	route("POST /flavors", a.createFlavor)
	route("GET /flavors/{id}", a.showFlavor)
	route("DELETE /flavors/{id}", a.deleteFlavor)
	route("GET /flavors/{id}/os-extra_specs", a.listExtraSpecs)
	route("POST /flavors/{id}/os-extra_specs", a.createExtraSpecs)
	route("GET /flavors/{id}/os-extra_specs/{key}", a.showExtraSpec)
	route("PUT /flavors/{id}/os-extra_specs/{key}", a.updateExtraSpec)
	route("DELETE /flavors/{id}/os-extra_specs/{key}", a.deleteExtraSpec)

	route("GET /servers", a.listServers(false))
	route("GET /servers/detail", a.listServers(true))
	route("POST /servers", a.createServer)
	route("GET /servers/{id}", a.showServer)
	route("DELETE /servers/{id}", a.deleteServer)

	route("GET /os-hypervisors", a.listHypervisors(false))
	route("GET /os-hypervisors/detail", a.listHypervisors(true))
	route("GET /os-hypervisors/{id}", a.showHypervisor)
	route("GET /os-aggregates", a.listAggregates)
	route("GET /os-availability-zone", a.listAvailabilityZones(false))
	route("GET /os-availability-zone/detail", a.listAvailabilityZones(true))
	a.routeLifecycle(route)
}

// compute wraps a Nova handler: token check (keystonemiddleware runs first), then microversion
// negotiation, whose result every response echoes with Vary.
func (a *API) compute(h computeHandler) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if !a.authenticated(r) {
			a.keystoneUnauthorized(w, r)
			return
		}
		v, code, msg := a.negotiate(r)
		if code != 0 {
			novaError(w, code, msg)
			return
		}
		w.Header().Set("OpenStack-API-Version", "compute "+v.String())
		w.Header().Set("X-OpenStack-Nova-API-Version", v.String())
		w.Header().Add("Vary", "OpenStack-API-Version")
		w.Header().Add("Vary", "X-OpenStack-Nova-API-Version")
		h(w, r, v)
	}
}

// Fault names of Nova's wsgi.Fault; other codes are "computeFault".
var faultNames = map[int]string{
	400: "badRequest",
	401: "unauthorized",
	403: "forbidden",
	404: "itemNotFound",
	405: "badMethod",
	409: "conflictingRequest",
	413: "overLimit",
	415: "badMediaType",
	429: "overLimit",
	501: "notImplemented",
	503: "serviceUnavailable",
}

// novaError writes Nova's fault body, {"itemNotFound": {"code": 404, "message": "..."}}.
func novaError(w http.ResponseWriter, code int, message string) {
	name, ok := faultNames[code]
	if !ok {
		name = "computeFault"
	}
	writeJSON(w, code, map[string]any{name: map[string]any{"code": code, "message": message}})
}

// unexpectedError is the text of Nova's 500 for an exception no handler expected.
func unexpectedError(pyClass string) string {
	return "Unexpected API Error. Please report this at http://bugs.launchpad.net/nova/ and attach the Nova API log if possible.\n<class '" + pyClass + "'>"
}

// cloudError answers an error from package cloud.
func cloudError(w http.ResponseWriter, err error) {
	var ce *cloud.Error
	if !errors.As(err, &ce) {
		novaError(w, http.StatusInternalServerError, unexpectedError("Exception"))
		return
	}
	switch ce.Kind {
	case cloud.BadRequest:
		novaError(w, http.StatusBadRequest, ce.Message)
	case cloud.NotFound:
		novaError(w, http.StatusNotFound, ce.Message)
	case cloud.Conflict:
		novaError(w, http.StatusConflict, ce.Message)
	default:
		// A malformed pci_passthrough:alias is a bare Python ValueError in Nova.
		novaError(w, http.StatusInternalServerError, unexpectedError("ValueError"))
	}
}

// readBody decodes a JSON request body into a generic map. Nova's messages for these cases
// come from its JSON-schema validation.
func readBody(w http.ResponseWriter, r *http.Request) (map[string]any, bool) {
	data, err := io.ReadAll(http.MaxBytesReader(w, r.Body, 1<<20))
	if err != nil {
		novaError(w, http.StatusBadRequest, "reading the request body: "+err.Error())
		return nil, false
	}
	var body map[string]any
	dec := json.NewDecoder(strings.NewReader(string(data)))
	dec.UseNumber()
	if err := dec.Decode(&body); err != nil || body == nil {
		novaError(w, http.StatusBadRequest, "Malformed request body")
		return nil, false
	}
	return body, true
}

// readObject reads a body of the form {"<key>": {...}}, as every create call takes, and answers
// Nova's schema error when the key is missing or not an object.
func readObject(w http.ResponseWriter, r *http.Request, key string) (map[string]any, bool) {
	body, ok := readBody(w, r)
	if !ok {
		return nil, false
	}
	obj, ok := body[key].(map[string]any)
	if !ok {
		novaError(w, http.StatusBadRequest, schemaError("body", body, "'"+key+"' is a required property"))
		return nil, false
	}
	return obj, true
}

// schemaError is the text of Nova's JSON-schema validation failures.
func schemaError(field string, value any, detail string) string {
	return fmt.Sprintf("Invalid input for field/attribute %s. Value: %s. %s", field, pyRepr(value), detail)
}

// pyRepr renders a decoded JSON value roughly as Python's repr would, for error texts.
func pyRepr(v any) string {
	switch x := v.(type) {
	case nil:
		return "None"
	case string:
		return x
	case bool:
		if x {
			return "True"
		}
		return "False"
	case json.Number:
		return x.String()
	default:
		b, err := json.Marshal(x)
		if err != nil {
			return fmt.Sprint(x)
		}
		return string(b)
	}
}

func (a *API) computeVersionBody(r *http.Request) map[string]any {
	return map[string]any{
		"id":          "v2.1",
		"status":      "CURRENT",
		"version":     a.maxVer.String(),
		"min_version": minMicroversion.String(),
		"updated":     "2013-07-23T11:33:21Z",
		"links": []any{
			map[string]any{"rel": "self", "href": a.baseURL(r) + v21 + "/"},
			map[string]any{"rel": "describedby", "type": "text/html", "href": "http://docs.openstack.org/"},
		},
		"media-types": []any{map[string]any{
			"base": "application/json", "type": "application/vnd.openstack.compute+json;version=2.1",
		}},
	}
}

func (a *API) computeVersions(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, http.StatusOK, map[string]any{"versions": []any{a.computeVersionBody(r)}})
}

func (a *API) computeVersion(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, http.StatusOK, map[string]any{"version": a.computeVersionBody(r)})
}

func (a *API) listAvailabilityZones(detail bool) computeHandler {
	return func(w http.ResponseWriter, r *http.Request, _ microversion) {
		updated := time.Now().UTC().Truncate(time.Second).Format(microTime)
		service := func() map[string]any {
			return map[string]any{"available": true, "active": true, "updated_at": updated}
		}
		var zones []any
		for _, z := range a.cloud.AvailabilityZones() {
			zone := map[string]any{"zoneName": z, "zoneState": map[string]any{"available": true}, "hosts": nil}
			if detail {
				hosts := map[string]any{}
				for _, h := range a.cloud.Lab().Hosts {
					if h.AvailabilityZone == z {
						hosts[h.Name] = map[string]any{"nova-compute": service()}
					}
				}
				zone["hosts"] = hosts
			}
			zones = append(zones, zone)
		}
		// An admin's detailed list also shows the "internal" zone of the control services
		// (os-services lists them on the first host).
		if hosts := a.cloud.Lab().Hosts; detail && len(hosts) > 0 {
			zones = append(zones, map[string]any{"zoneName": "internal", "zoneState": map[string]any{"available": true},
				"hosts": map[string]any{hosts[0].Name: map[string]any{"nova-scheduler": service(), "nova-conductor": service()}}})
		}
		writeJSON(w, http.StatusOK, map[string]any{"availabilityZoneInfo": zones})
	}
}

// listAggregates shows one aggregate per availability zone other than Nova's default "nova",
// holding that zone's hosts: that is how an operator puts hosts into a zone.
func (a *API) listAggregates(w http.ResponseWriter, r *http.Request, v microversion) {
	out := []any{}
	for i, z := range a.cloud.AvailabilityZones() {
		if z == defaultZone {
			continue
		}
		hosts := []string{}
		for _, h := range a.cloud.Lab().Hosts {
			if h.AvailabilityZone == z {
				hosts = append(hosts, h.Name)
			}
		}
		agg := map[string]any{
			"id": i + 1, "name": z, "availability_zone": z, "hosts": hosts,
			"metadata":   map[string]any{"availability_zone": z},
			"created_at": "2024-01-01T00:00:00.000000", "updated_at": nil, "deleted_at": nil, "deleted": false,
		}
		if v.atLeast(41) {
			agg["uuid"] = computeNodeUUID("aggregate " + z)
		}
		out = append(out, agg)
	}
	writeJSON(w, http.StatusOK, map[string]any{"aggregates": out})
}

// defaultZone is Nova's default_availability_zone.
const defaultZone = "nova"

// links builds Nova's self and bookmark links of a resource.
func (a *API) links(r *http.Request, collection, id string) []any {
	base := a.baseURL(r)
	return []any{
		map[string]any{"rel": "self", "href": base + v21 + "/" + collection + "/" + id},
		map[string]any{"rel": "bookmark", "href": base + ComputePrefix + "/" + collection + "/" + id},
	}
}
