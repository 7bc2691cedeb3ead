package lab

import (
	"fmt"
	"strconv"
	"strings"
)

// addressGlob is a parsed device_spec address: domain, bus, slot, function, each nil for any.
// The harness reads the same glob with its own code (config.DeviceSpec): the two sides share no
// parsing, so a misreading in one cannot make both agree on which devices Nova exposes.
type addressGlob [4]*uint

// parseAddressGlob reads "DDDD:BB:SS.F" as Nova's PciAddressGlobSpec does: split at '.', then
// ':', missing leading fields are any, each field '*', empty, or a hex number within range.
func parseAddressGlob(s string) (addressGlob, error) {
	var g addressGlob
	head, fn, _ := strings.Cut(s, ".")
	parts := strings.Split(head, ":")
	if len(parts) > 3 {
		return g, fmt.Errorf("expected DDDD:BB:SS.F with at most three ':'-separated fields before '.'")
	}
	for len(parts) < 3 {
		parts = append([]string{""}, parts...)
	}
	max := [4]uint64{0xffff, 0xff, 0x1f, 0x7}
	what := [4]string{"domain", "bus", "slot", "function"}
	for i, p := range append(parts, fn) {
		p = strings.TrimSpace(p)
		if p == "" || p == "*" {
			continue
		}
		v, err := strconv.ParseUint(p, 16, 16)
		if err != nil || v > max[i] {
			return g, fmt.Errorf("%s %q: expected '*' or a hex number up to %#x (Nova has no partial globs)", what[i], p, max[i])
		}
		u := uint(v)
		g[i] = &u
	}
	return g, nil
}

func (g addressGlob) exact() bool { return g[0] != nil && g[1] != nil && g[2] != nil && g[3] != nil }

func (g addressGlob) matches(a Address) bool {
	for i, v := range [4]uint{a.Domain, a.Bus, a.Slot, a.Function} {
		if g[i] != nil && *g[i] != v {
			return false
		}
	}
	return true
}
