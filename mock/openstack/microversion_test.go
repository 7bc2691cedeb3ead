package openstack

import (
	"net/http"
	"strings"
	"testing"
)

func TestNegotiate(t *testing.T) {
	a := &API{maxVer: microversion{2, 96}}
	cases := []struct {
		headers map[string]string
		want    string
		code    int
	}{
		{nil, "2.1", 0},
		{map[string]string{"OpenStack-API-Version": "compute 2.86"}, "2.86", 0},
		{map[string]string{"OpenStack-API-Version": "COMPUTE 2.86"}, "2.86", 0},
		{map[string]string{"OpenStack-API-Version": "volume 3.10, compute 2.5"}, "2.5", 0},
		{map[string]string{"OpenStack-API-Version": "volume 3.10"}, "2.1", 0},
		{map[string]string{"OpenStack-API-Version": "volume 3.10", "X-OpenStack-Nova-API-Version": "2.7"}, "2.7", 0},
		{map[string]string{"OpenStack-API-Version": "compute 2.9", "X-OpenStack-Nova-API-Version": "2.7"}, "2.9", 0},
		{map[string]string{"OpenStack-API-Version": "compute Latest"}, "2.96", 0},
		{map[string]string{"OpenStack-API-Version": "compute 2.96"}, "2.96", 0},
		{map[string]string{"OpenStack-API-Version": "compute 2.97"}, "", 406},
		{map[string]string{"OpenStack-API-Version": "compute 1.99"}, "", 406},
		{map[string]string{"OpenStack-API-Version": "compute 2"}, "", 400},
		{map[string]string{"OpenStack-API-Version": "compute 2.1.1"}, "", 400},
		{map[string]string{"OpenStack-API-Version": "compute -2.1"}, "", 400},
		{map[string]string{"OpenStack-API-Version": "compute 02.1"}, "", 400},
		{map[string]string{"OpenStack-API-Version": "compute 2.01"}, "", 400},
		// Numeric, not lexical: 2.100 is above 2.96.
		{map[string]string{"OpenStack-API-Version": "compute 2.100"}, "", 406},
	}
	for _, tc := range cases {
		r, _ := http.NewRequest("GET", "/", nil)
		for k, v := range tc.headers {
			r.Header.Set(k, v)
		}
		v, code, msg := a.negotiate(r)
		if code != tc.code || (code == 0 && v.String() != tc.want) || (code != 0) != (msg != "") {
			t.Errorf("%v: got %v %d %q, want %s %d", tc.headers, v, code, msg, tc.want, tc.code)
		}
	}
}

// FuzzNegotiate: any header value yields either a version within [2.1, max] or a 400/406
// with a message; never a panic.
func FuzzNegotiate(f *testing.F) {
	for _, s := range []string{"compute 2.86", "compute latest", "compute 2.x", "compute 99999999999999999999.1", "compute ", ",,compute 2.1", "compute 2.0"} {
		f.Add(s)
	}
	a := &API{maxVer: microversion{2, 104}}
	f.Fuzz(func(t *testing.T, h string) {
		r, _ := http.NewRequest("GET", "/", nil)
		r.Header["Openstack-Api-Version"] = []string{h}
		v, code, msg := a.negotiate(r)
		switch code {
		case 0:
			if v.less(minMicroversion) || a.maxVer.less(v) {
				t.Fatalf("%q negotiated %v outside [2.1, 2.104]", h, v)
			}
		case 400:
			if !strings.Contains(msg, "is of invalid format") {
				t.Fatalf("%q: 400 %q", h, msg)
			}
		case 406:
			if !strings.Contains(msg, "is not supported by the API") {
				t.Fatalf("%q: 406 %q", h, msg)
			}
		default:
			t.Fatalf("%q: code %d", h, code)
		}
	})
}

func TestNegotiateHugeVersion(t *testing.T) {
	a := &API{maxVer: microversion{2, 96}}
	r, _ := http.NewRequest("GET", "/", nil)
	r.Header.Set("OpenStack-API-Version", "compute 2.99999999999999999999")
	if _, code, msg := a.negotiate(r); code != 406 || msg != "Version 2.99999999999999999999 is not supported by the API. Minimum is 2.1 and maximum is 2.96." {
		t.Errorf("%d %q", code, msg)
	}
}
