package openstack

import (
	"encoding/json"
	"fmt"
	"math"
	"net/http"
	"regexp"
	"sort"
	"strconv"
	"strings"

	"github.com/hwcert/hwcert/mock/cloud"
	"github.com/hwcert/hwcert/mock/novaspec"
)

func (a *API) flavorView(r *http.Request, v microversion, f cloud.Flavor, detail bool) map[string]any {
	out := map[string]any{
		"id":    f.ID,
		"name":  f.Name,
		"links": a.links(r, "flavors", f.ID),
	}
	if v.atLeast(55) {
		if f.Description == "" {
			out["description"] = nil
		} else {
			out["description"] = f.Description
		}
	}
	if !detail {
		return out
	}
	out["ram"] = f.RAMMB
	out["disk"] = f.DiskGB
	out["vcpus"] = f.VCPUs
	out["OS-FLV-EXT-DATA:ephemeral"] = f.EphemeralGB
	out["OS-FLV-DISABLED:disabled"] = false
	out["os-flavor-access:is_public"] = f.IsPublic
	out["rxtx_factor"] = f.RxTxFactor
	// Before 2.75 a zero swap was shown as an empty string.
	if f.SwapMB == 0 && !v.atLeast(75) {
		out["swap"] = ""
	} else {
		out["swap"] = f.SwapMB
	}
	if v.atLeast(61) {
		out["extra_specs"] = f.ExtraSpecs
	}
	return out
}

// listFlavors is GET /flavors[/detail]: an admin sees public flavors unless is_public says
// otherwise ("none" lists all, "false" the private ones), as Nova's _parse_is_public.
func (a *API) listFlavors(detail bool) computeHandler {
	return func(w http.ResponseWriter, r *http.Request, v microversion) {
		q := r.URL.Query()
		var isPublic *bool
		switch s := strings.ToLower(q.Get("is_public")); s {
		case "", "1", "t", "true", "on", "y", "yes":
			t := true
			isPublic = &t
		case "none":
		case "0", "f", "false", "off", "n", "no":
			f := false
			isPublic = &f
		default:
			novaError(w, http.StatusBadRequest, fmt.Sprintf("Invalid is_public filter [%s]", q.Get("is_public")))
			return
		}
		minRAM, okRAM := intParam(q.Get("minRam"))
		minDisk, okDisk := intParam(q.Get("minDisk"))
		if !okRAM || !okDisk {
			novaError(w, http.StatusBadRequest, "Invalid minRam or minDisk filter")
			return
		}
		out := []any{}
		for _, f := range a.cloud.Flavors() {
			if isPublic != nil && f.IsPublic != *isPublic {
				continue
			}
			if f.RAMMB < minRAM || f.DiskGB < minDisk {
				continue
			}
			out = append(out, a.flavorView(r, v, f, detail))
		}
		writeJSON(w, http.StatusOK, map[string]any{"flavors": out})
	}
}

func intParam(s string) (int, bool) {
	if s == "" {
		return 0, true
	}
	n, err := strconv.Atoi(s)
	return n, err == nil
}

func (a *API) showFlavor(w http.ResponseWriter, r *http.Request, v microversion) {
	f, err := a.cloud.Flavor(r.PathValue("id"))
	if err != nil {
		cloudError(w, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"flavor": a.flavorView(r, v, f, true)})
}

func (a *API) deleteFlavor(w http.ResponseWriter, r *http.Request, _ microversion) {
	if err := a.cloud.DeleteFlavor(r.PathValue("id")); err != nil {
		cloudError(w, err)
		return
	}
	w.WriteHeader(http.StatusAccepted)
}

// flavorIDPattern is Nova's flavor id schema: no leading/trailing space, [a-zA-Z0-9. _-].
var flavorIDPattern = regexp.MustCompile(`^[a-zA-Z0-9. _-]+$`)

// createFlavor is POST /flavors with Nova's schema (name, ram, vcpus and disk required).
func (a *API) createFlavor(w http.ResponseWriter, r *http.Request, v microversion) {
	raw, ok := readObject(w, r, "flavor")
	if !ok {
		return
	}
	allowed := map[string]bool{"name": true, "id": true, "ram": true, "vcpus": true, "disk": true,
		"OS-FLV-EXT-DATA:ephemeral": true, "swap": true, "rxtx_factor": true, "os-flavor-access:is_public": true}
	if v.atLeast(55) {
		allowed["description"] = true
	}
	var extra []string
	for k := range raw {
		if !allowed[k] {
			extra = append(extra, "'"+k+"'")
		}
	}
	if len(extra) > 0 {
		sort.Strings(extra)
		novaError(w, http.StatusBadRequest, schemaError("flavor", raw, "Additional properties are not allowed ("+strings.Join(extra, ", ")+" were unexpected)"))
		return
	}
	for _, req := range []string{"name", "ram", "vcpus", "disk"} {
		if _, ok := raw[req]; !ok {
			novaError(w, http.StatusBadRequest, schemaError("flavor", raw, "'"+req+"' is a required property"))
			return
		}
	}
	name, ok := raw["name"].(string)
	if !ok || len(name) == 0 || len(name) > 255 || strings.TrimSpace(name) != name {
		novaError(w, http.StatusBadRequest, schemaError("name", raw["name"], "expected a string of 1 to 255 characters without leading or trailing whitespace"))
		return
	}
	f := cloud.Flavor{Name: name, RxTxFactor: 1.0, IsPublic: true}
	if id, present := raw["id"]; present && id != nil {
		s, ok := id.(string)
		if !ok || len(s) > 255 || !flavorIDPattern.MatchString(s) || strings.TrimSpace(s) != s {
			novaError(w, http.StatusBadRequest, schemaError("id", id, "expected a string of letters, digits, '.', ' ', '_' or '-' without leading or trailing spaces"))
			return
		}
		f.ID = s
	}
	ints := []struct {
		key string
		min int
		dst *int
	}{
		{"ram", 1, &f.RAMMB}, {"vcpus", 1, &f.VCPUs}, {"disk", 0, &f.DiskGB},
		{"OS-FLV-EXT-DATA:ephemeral", 0, &f.EphemeralGB}, {"swap", 0, &f.SwapMB},
	}
	for _, it := range ints {
		val, present := raw[it.key]
		if !present {
			continue
		}
		n, msg := flavorInt(val, it.min)
		if msg != "" {
			novaError(w, http.StatusBadRequest, schemaError(it.key, val, msg))
			return
		}
		*it.dst = n
	}
	if val, present := raw["rxtx_factor"]; present {
		x, err := numberValue(val)
		if err != nil || x <= 0 {
			novaError(w, http.StatusBadRequest, schemaError("rxtx_factor", val, "expected a number greater than 0"))
			return
		}
		f.RxTxFactor = x
	}
	if val, present := raw["os-flavor-access:is_public"]; present {
		b, ok := boolValue(val)
		if !ok {
			novaError(w, http.StatusBadRequest, schemaError("os-flavor-access:is_public", val, fmt.Sprintf("%s is not of type 'boolean', 'string'", pyRepr(val))))
			return
		}
		f.IsPublic = b
	}
	if val, present := raw["description"]; present && val != nil {
		s, ok := val.(string)
		if !ok || len(s) > 65535 {
			novaError(w, http.StatusBadRequest, schemaError("description", val, "expected a string of at most 65535 characters"))
			return
		}
		f.Description = s
	}
	created, err := a.cloud.CreateFlavor(f)
	if err != nil {
		cloudError(w, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"flavor": a.flavorView(r, v, created, true)})
}

// flavorInt reads Nova's flavor integer parameters: an integer or a string of one, at least min.
func flavorInt(val any, min int) (int, string) {
	var n int64
	switch x := val.(type) {
	case json.Number:
		i, err := x.Int64()
		if err != nil {
			return 0, fmt.Sprintf("%s is not of type 'integer', 'string'", x)
		}
		n = i
	case string:
		i, err := strconv.ParseInt(strings.TrimSpace(x), 10, 64)
		if err != nil {
			return 0, fmt.Sprintf("'%s' does not match '^[0-9]+$'", x)
		}
		n = i
	default:
		return 0, fmt.Sprintf("%s is not of type 'integer', 'string'", pyRepr(val))
	}
	if n < int64(min) {
		return 0, fmt.Sprintf("%d is less than the minimum of %d", n, min)
	}
	if n > math.MaxInt32 {
		return 0, fmt.Sprintf("%d is greater than the maximum of %d", n, math.MaxInt32)
	}
	return int(n), ""
}

func numberValue(val any) (float64, error) {
	switch x := val.(type) {
	case json.Number:
		return x.Float64()
	case string:
		return strconv.ParseFloat(x, 64)
	}
	return 0, fmt.Errorf("not a number")
}

// boolValue accepts Nova's boolean parameter type: true/false or their usual string spellings.
func boolValue(val any) (bool, bool) {
	switch x := val.(type) {
	case bool:
		return x, true
	case string:
		switch strings.ToLower(x) {
		case "1", "t", "true", "on", "y", "yes":
			return true, true
		case "0", "f", "false", "off", "n", "no":
			return false, true
		}
	}
	return false, false
}

func (a *API) listExtraSpecs(w http.ResponseWriter, r *http.Request, _ microversion) {
	f, err := a.cloud.Flavor(r.PathValue("id"))
	if err != nil {
		cloudError(w, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"extra_specs": f.ExtraSpecs})
}

func (a *API) showExtraSpec(w http.ResponseWriter, r *http.Request, _ microversion) {
	id, key := r.PathValue("id"), r.PathValue("key")
	f, err := a.cloud.Flavor(id)
	if err != nil {
		cloudError(w, err)
		return
	}
	val, ok := f.ExtraSpecs[key]
	if !ok {
		cloudError(w, cloud.ExtraSpecNotFound(id, key))
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{key: val})
}

// extraSpecValues checks the shape Nova's schema allows (string keys of 1-255 characters from
// [a-zA-Z0-9-_:. ], string or number values) and, from 2.86, each key and value against Nova's
// extra spec validators. Validation happens before the flavor is looked up, as in Nova.
func extraSpecValues(field string, raw map[string]any, v microversion) (map[string]string, string) {
	out := make(map[string]string, len(raw))
	keys := make([]string, 0, len(raw))
	for k := range raw {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		if len(k) == 0 || len(k) > 255 || !extraSpecKey.MatchString(k) {
			return nil, schemaError(field, raw, fmt.Sprintf("'%s' does not match any of the regexes: '^[a-zA-Z0-9-_:. ]{1,255}$'", k))
		}
		var s string
		switch x := raw[k].(type) {
		case string:
			s = x
		case json.Number:
			s = x.String()
		default:
			return nil, schemaError(field+"/"+k, raw[k], fmt.Sprintf("%s is not of type 'string', 'number'", pyRepr(raw[k])))
		}
		if len(s) > 255 {
			return nil, schemaError(field+"/"+k, s, "is too long (at most 255 characters)")
		}
		if v.atLeast(86) {
			if err := novaspec.ValidateExtraSpec(k, s); err != nil {
				return nil, err.Error()
			}
		}
		out[k] = s
	}
	return out, ""
}

var extraSpecKey = regexp.MustCompile(`^[a-zA-Z0-9-_:. ]{1,255}$`)

func (a *API) createExtraSpecs(w http.ResponseWriter, r *http.Request, v microversion) {
	raw, ok := readObject(w, r, "extra_specs")
	if !ok {
		return
	}
	specs, msg := extraSpecValues("extra_specs", raw, v)
	if msg != "" {
		novaError(w, http.StatusBadRequest, msg)
		return
	}
	if _, err := a.cloud.SetExtraSpecs(r.PathValue("id"), specs); err != nil {
		cloudError(w, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"extra_specs": specs})
}

// updateExtraSpec is PUT /flavors/{id}/os-extra_specs/{key}: the body holds exactly one key,
// and it must be the one in the URL.
func (a *API) updateExtraSpec(w http.ResponseWriter, r *http.Request, v microversion) {
	body, ok := readBody(w, r)
	if !ok {
		return
	}
	if len(body) != 1 {
		detail := "does not have enough properties"
		if len(body) > 1 {
			detail = "has too many properties"
		}
		novaError(w, http.StatusBadRequest, schemaError("body", body, pyRepr(body)+" "+detail))
		return
	}
	specs, msg := extraSpecValues("body", body, v)
	if msg != "" {
		novaError(w, http.StatusBadRequest, msg)
		return
	}
	key := r.PathValue("key")
	if _, ok := specs[key]; !ok {
		novaError(w, http.StatusBadRequest, "Request body and URI mismatch")
		return
	}
	if _, err := a.cloud.SetExtraSpecs(r.PathValue("id"), specs); err != nil {
		cloudError(w, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{key: specs[key]})
}

func (a *API) deleteExtraSpec(w http.ResponseWriter, r *http.Request, _ microversion) {
	if err := a.cloud.DeleteExtraSpec(r.PathValue("id"), r.PathValue("key")); err != nil {
		cloudError(w, err)
		return
	}
	w.WriteHeader(http.StatusOK)
}
