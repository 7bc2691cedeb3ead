// Package cpuset reads and writes the CPU list syntax that Linux, libvirt and Nova share
// ("0-3,8,10-11"). It is used on both sides of the wire: the mock renders vcpupin and
// capabilities with it, the harness parses them back.
package cpuset

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
)

// maxCPU bounds a single range so that hostile input ("0-999999999") cannot allocate gigabytes.
const maxCPU = 1 << 16

// Parse reads a cpuset. The result is sorted and free of duplicates. An empty string is an empty set.
func Parse(s string) ([]int, error) {
	var out []int
	s = strings.TrimSpace(s)
	if s == "" {
		return nil, nil
	}
	for _, part := range strings.Split(s, ",") {
		part = strings.TrimSpace(part)
		if part == "" {
			return nil, fmt.Errorf("cpuset %q: empty element", s)
		}
		if strings.HasPrefix(part, "^") {
			return nil, fmt.Errorf("cpuset %q: exclusions (%q) are not supported", s, part)
		}
		lo, hi, isRange := strings.Cut(part, "-")
		a, err := parseCPU(lo)
		if err != nil {
			return nil, fmt.Errorf("cpuset %q: %w", s, err)
		}
		b := a
		if isRange {
			if b, err = parseCPU(hi); err != nil {
				return nil, fmt.Errorf("cpuset %q: %w", s, err)
			}
			if b < a {
				return nil, fmt.Errorf("cpuset %q: range %q goes backwards", s, part)
			}
		}
		for c := a; c <= b; c++ {
			out = append(out, c)
		}
	}
	slices.Sort(out)
	return slices.Compact(out), nil
}

func parseCPU(s string) (int, error) {
	n, err := strconv.Atoi(strings.TrimSpace(s))
	if err != nil || n < 0 {
		return 0, fmt.Errorf("%q is not a CPU number", s)
	}
	if n >= maxCPU {
		return 0, fmt.Errorf("CPU %d is beyond the supported maximum %d", n, maxCPU-1)
	}
	return n, nil
}

// Format writes cpus in the shortest canonical form, e.g. [0 1 2 3 8] -> "0-3,8".
func Format(cpus []int) string {
	c := slices.Clone(cpus)
	slices.Sort(c)
	c = slices.Compact(c)
	var b strings.Builder
	for i := 0; i < len(c); {
		j := i
		for j+1 < len(c) && c[j+1] == c[j]+1 {
			j++
		}
		if b.Len() > 0 {
			b.WriteByte(',')
		}
		b.WriteString(strconv.Itoa(c[i]))
		if j > i {
			b.WriteByte('-')
			b.WriteString(strconv.Itoa(c[j]))
		}
		i = j + 1
	}
	return b.String()
}
