// Package cpuset is the mock's reader and writer of the Linux/libvirt CPU list syntax
// ("0-3,8,10-11"): the lab files' cores and cpu_*_set fields are read with it, and the fake
// libvirtd's capabilities and domain XML (siblings, vcpupin, emulatorpin, numatune) are written
// with it.
//
// The harness has a parser of its own (framework/cpuset) and the two are kept apart on purpose,
// as the mock's and the harness's PCI address parsers are: the harness reads back what the mock
// writes, and a bug both sides shared would make the mock and the verdict agree on a wrong
// answer. Nova's own cpu spec syntax, with "^" exclusions and Nova's error messages, is a third
// thing and lives in mock/novaspec.
package cpuset

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
)

// limit bounds CPU numbers, so that a typo in a lab file ("0-99999999") is an error rather than
// a list of a hundred million CPUs. 8192 is NR_CPUS of common distribution kernels.
const limit = 8192

// Parse reads a CPU list into sorted, distinct CPU numbers. Blanks around elements are allowed;
// the empty string is the empty set.
func Parse(s string) ([]int, error) {
	if strings.TrimSpace(s) == "" {
		return nil, nil
	}
	seen := map[int]bool{}
	for _, elem := range strings.Split(s, ",") {
		first, last, err := parseRange(strings.TrimSpace(elem))
		if err != nil {
			return nil, fmt.Errorf("cpuset %q: %w", s, err)
		}
		for c := first; c <= last; c++ {
			seen[c] = true
		}
	}
	out := make([]int, 0, len(seen))
	for c := range seen {
		out = append(out, c)
	}
	slices.Sort(out)
	return out, nil
}

// parseRange reads "N" or "N-M".
func parseRange(elem string) (first, last int, err error) {
	if elem == "" {
		return 0, 0, fmt.Errorf("empty element")
	}
	from, to, isRange := strings.Cut(elem, "-")
	if first, err = cpuNumber(from); err != nil {
		return 0, 0, err
	}
	if !isRange {
		return first, first, nil
	}
	if last, err = cpuNumber(to); err != nil {
		return 0, 0, err
	}
	if last < first {
		return 0, 0, fmt.Errorf("range %q ends before it starts", elem)
	}
	return first, last, nil
}

func cpuNumber(s string) (int, error) {
	s = strings.TrimSpace(s)
	n, err := strconv.Atoi(s)
	// Atoi takes a sign; a CPU list has none.
	if err != nil || strings.ContainsAny(s, "+-") {
		return 0, fmt.Errorf("%q is not a CPU number", s)
	}
	if n >= limit {
		return 0, fmt.Errorf("CPU %d: the mock supports CPUs 0-%d", n, limit-1)
	}
	return n, nil
}

// Format writes CPUs as libvirt does: ascending, runs of two or more as "first-last", e.g.
// [8 0 1 2 3] gives "0-3,8". Duplicates are written once; nil gives "".
func Format(cpus []int) string {
	sorted := slices.Compact(slices.Sorted(slices.Values(cpus)))
	var parts []string
	for start := 0; start < len(sorted); {
		end := start
		for end+1 < len(sorted) && sorted[end+1] == sorted[end]+1 {
			end++
		}
		if end == start {
			parts = append(parts, strconv.Itoa(sorted[start]))
		} else {
			parts = append(parts, strconv.Itoa(sorted[start])+"-"+strconv.Itoa(sorted[end]))
		}
		start = end + 1
	}
	return strings.Join(parts, ",")
}
