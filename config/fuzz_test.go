package config

import (
	"os"
	"strings"
	"testing"
)

// FuzzParse: no input may panic, and an accepted config is complete and consistent.
func FuzzParse(f *testing.F) {
	for _, file := range []string{"examples/mock.yaml", "examples/starlingx-lab.yaml"} {
		data, err := os.ReadFile(file)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
	}
	f.Add([]byte(minimal))
	f.Add([]byte("cloud: x\nhypervisors: {hosts: {a: \"qemu:///system\"}}\nimage: i\ntimeouts: {boot: 1h}\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		c, err := Parse("/etc/hwcert/fuzz.yaml", data)
		if err != nil {
			if !strings.HasPrefix(err.Error(), "config /etc/hwcert/fuzz.yaml: ") {
				t.Fatalf("error does not name the file: %v", err)
			}
			return
		}
		if err := c.Validate(); err != nil {
			t.Fatalf("accepted config fails Validate: %v", err)
		}
		if c.Image == "" || c.NamePrefix == "" || c.Timeouts.Poll.Duration <= 0 || c.Timeouts.Poll.Duration >= c.Timeouts.Boot.Duration {
			t.Fatalf("accepted incomplete config: %+v", c)
		}
		for host, uri := range c.Hypervisors.Hosts {
			if got, err := c.HypervisorURI(host); err != nil || got != uri {
				t.Fatalf("HypervisorURI(%q) = %q, %v; want %q", host, got, err, uri)
			}
		}
		if c.Hypervisors.URITemplate != "" {
			uri, err := c.HypervisorURI("compute-7")
			if err != nil || strings.Contains(uri, HostPlaceholder) {
				t.Fatalf("template URI %q, %v", uri, err)
			}
		}
	})
}

// FuzzAddressGlob: no address glob may panic; an accepted one matches every address whose fields
// equal its set fields, and an address off by one in a set field never.
func FuzzAddressGlob(f *testing.F) {
	for _, s := range []string{"0000:3d:*", ":3d:01.", "0000:3D:00.0", "*:*:*.*", "3d:01.2", "0000:3*:00.0", "0:0:3d:00.0"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		g, err := parseAddrGlob(s)
		if err != nil {
			return
		}
		var a [4]uint
		for i, v := range g {
			if v >= 0 {
				a[i] = uint(v)
			}
		}
		if !g.match(a) {
			t.Fatalf("%q (%v) does not match %v", s, g, a)
		}
		for i, v := range g {
			if v >= 0 {
				b := a
				b[i]++
				if g.match(b) {
					t.Fatalf("%q (%v) matches %v", s, g, b)
				}
			}
		}
	})
}
