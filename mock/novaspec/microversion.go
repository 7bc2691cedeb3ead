package novaspec

import (
	"fmt"
	"strconv"
	"strings"
)

// Microversion is a compute API microversion, 2.N.
type Microversion struct{ Major, Minor int }

func digitsOnly(s string) bool {
	for _, r := range s {
		if r < '0' || r > '9' {
			return false
		}
	}
	return s != ""
}

// ExtraSpecValidationSince (2.86) is where flavor extra specs started being validated.
var ExtraSpecValidationSince = Microversion{2, 86}

// ParseMicroversion reads "2.86". "latest" is not a version: resolve it with ResolveMicroversion.
func ParseMicroversion(s string) (Microversion, error) {
	maj, min, ok := strings.Cut(strings.TrimSpace(s), ".")
	if !ok {
		return Microversion{}, fmt.Errorf("microversion %q: expected MAJOR.MINOR, e.g. 2.86", s)
	}
	a, err1 := strconv.Atoi(maj)
	b, err2 := strconv.Atoi(min)
	// Nova's APIVersionRequest: ^([1-9]\d*)\.([1-9]\d*|0)$
	if err1 != nil || err2 != nil || a < 1 || b < 0 || !digitsOnly(maj) || !digitsOnly(min) ||
		(len(min) > 1 && min[0] == '0') || maj[0] == '0' {
		return Microversion{}, fmt.Errorf("microversion %q: expected MAJOR.MINOR such as 2.86 (no leading zeros)", s)
	}
	return Microversion{a, b}, nil
}

// ResolveMicroversion turns a requested version ("" = min, "latest" = max, else 2.N) into the
// version served, or an error when it is outside [min, max] (Nova answers 406 then).
func ResolveMicroversion(requested string, min, max Microversion) (Microversion, error) {
	switch strings.TrimSpace(requested) {
	case "":
		return min, nil
	case "latest":
		return max, nil
	}
	v, err := ParseMicroversion(requested)
	if err != nil {
		return Microversion{}, err
	}
	if v.Compare(min) < 0 || v.Compare(max) > 0 {
		return Microversion{}, fmt.Errorf("Version %s is not supported by the API. Minimum is %s and maximum is %s.", v, min, max)
	}
	return v, nil
}

// Compare returns -1, 0 or 1.
func (v Microversion) Compare(o Microversion) int {
	switch {
	case v.Major != o.Major:
		return sign(v.Major - o.Major)
	default:
		return sign(v.Minor - o.Minor)
	}
}

// AtLeast reports v >= o.
func (v Microversion) AtLeast(o Microversion) bool { return v.Compare(o) >= 0 }

func (v Microversion) String() string { return fmt.Sprintf("%d.%d", v.Major, v.Minor) }

func sign(i int) int {
	switch {
	case i < 0:
		return -1
	case i > 0:
		return 1
	}
	return 0
}
