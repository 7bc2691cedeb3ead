package openstack

import (
	"fmt"
	"net/http"
	"regexp"
	"strconv"
	"strings"
)

// microversion is a compute API version, 2.N.
type microversion struct{ major, minor int }

var minMicroversion = microversion{2, 1}

// Nova's APIVersionRequest pattern (nova/api/openstack/api_version_request.py).
var microversionRE = regexp.MustCompile(`^([1-9]\d*)\.([1-9]\d*|0)$`)

func parseMicroversion(s string) (microversion, error) {
	m := microversionRE.FindStringSubmatch(s)
	if m == nil {
		return microversion{}, fmt.Errorf("API Version String %s is of invalid format. Must be of format MajorNum.MinorNum.", s)
	}
	major, err1 := strconv.Atoi(m[1])
	minor, err2 := strconv.Atoi(m[2])
	if err1 != nil || err2 != nil {
		return microversion{}, fmt.Errorf("API Version String %s is of invalid format. Must be of format MajorNum.MinorNum.", s)
	}
	return microversion{major, minor}, nil
}

func (v microversion) String() string { return fmt.Sprintf("%d.%d", v.major, v.minor) }

func (v microversion) less(o microversion) bool {
	return v.major < o.major || (v.major == o.major && v.minor < o.minor)
}

// atLeast reports whether v ≥ 2.minor (every compute microversion is 2.x).
func (v microversion) atLeast(minor int) bool { return !v.less(microversion{2, minor}) }

// requestedMicroversion reads the version the client asked for, as microversion_parse does:
// "OpenStack-API-Version: compute X.Y" first (possibly among other services, comma-separated),
// then the legacy "X-OpenStack-Nova-API-Version". ok is false when neither names one.
func requestedMicroversion(r *http.Request) (value string, ok bool) {
	for _, h := range r.Header.Values("OpenStack-API-Version") {
		for _, part := range strings.Split(h, ",") {
			service, version, found := strings.Cut(strings.TrimSpace(part), " ")
			if found && strings.EqualFold(service, "compute") {
				return strings.TrimSpace(version), true
			}
		}
	}
	if v := strings.TrimSpace(r.Header.Get("X-OpenStack-Nova-API-Version")); v != "" {
		return v, true
	}
	return "", false
}

// negotiate picks the microversion of a compute request. A malformed version is a 400 and an
// out-of-range one a 406, with Nova's texts; no header means the minimum, 2.1.
func (a *API) negotiate(r *http.Request) (microversion, int, string) {
	s, ok := requestedMicroversion(r)
	if !ok {
		return minMicroversion, 0, ""
	}
	if strings.EqualFold(s, "latest") {
		return a.maxVer, 0, ""
	}
	v, err := parseMicroversion(s)
	if err != nil {
		if microversionRE.MatchString(s) {
			// Well-formed but too large for an int: Python would parse it, and find it too new.
			return microversion{}, http.StatusNotAcceptable, fmt.Sprintf(
				"Version %s is not supported by the API. Minimum is %s and maximum is %s.", s, minMicroversion, a.maxVer)
		}
		return microversion{}, http.StatusBadRequest, err.Error()
	}
	if v.less(minMicroversion) || a.maxVer.less(v) {
		return microversion{}, http.StatusNotAcceptable, fmt.Sprintf(
			"Version %s is not supported by the API. Minimum is %s and maximum is %s.", v, minMicroversion, a.maxVer)
	}
	return v, 0, ""
}
