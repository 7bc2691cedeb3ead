// Package labels is the one registry of the Ginkgo labels hwcert specs carry. Every label a spec
// uses comes from here, and a label filter that names a label outside the registry is an error:
// a typo in `--label-filter` must not turn into an empty, green run.
package labels

import (
	"fmt"
	"regexp"
	"slices"
	"sort"
	"strings"
	"sync"

	"github.com/onsi/ginkgo/v2/types"

	"github.com/hwcert/hwcert/config/vocab"
	"github.com/hwcert/hwcert/framework/catalog"
)

// Plain labels.
const (
	QAT           = "qat"
	GPU           = "gpu"
	NUMA          = "numa"
	Negative      = "negative"
	MultiDevice   = "multi-device"
	Passthrough   = "passthrough"
	Serial        = "serial"
	NoNUMADevice  = "no-numa-device"
	StarlingXDoc  = "starlingx-doc"
	DedicatedCPUs = "dedicated-cpus"
	TwoNodeGuest  = "two-node-guest"
	Lifecycle     = "lifecycle"
)

// Keyed labels (KEY:VALUE); Ginkgo's set operations (`policy: containsAny {required,socket}`)
// work on the keys.
const (
	PolicyKey      = "policy"
	NUMAReadingKey = "numa-reading"
	FaultKey       = "fault"
)

// Policy returns the label of a PCI NUMA affinity policy, e.g. "policy:required".
func Policy(p string) string { return PolicyKey + ":" + p }

// NUMAReading returns the label of a PCI NUMA affinity reading ("upstream", "per-guest-node").
func NUMAReading(r string) string { return NUMAReadingKey + ":" + r }

// Fault returns the label a spec carries when it must fail under the mock fault name.
func Fault(name string) string { return FaultKey + ":" + name }

// registry maps every known label to its description.
var registry = func() map[string]string {
	r := map[string]string{
		QAT:           "requests Intel QuickAssist (QAT) devices",
		GPU:           "requests GPUs",
		NUMA:          "checks host NUMA placement of devices, memory or CPUs",
		Negative:      "expects the cloud to refuse the request with the error a user sees",
		MultiDevice:   "requests several devices in one server or flavor",
		Passthrough:   "checks that requested devices are passed through to the guest",
		Serial:        "fills a host on purpose and holds it whole",
		NoNUMADevice:  "uses a device without NUMA information (sysfs numa_node -1)",
		StarlingXDoc:  "checks a claim of the StarlingX documentation",
		DedicatedCPUs: "uses dedicated (pinned) CPUs, hw:cpu_policy=dedicated",
		TwoNodeGuest:  "boots a guest with two NUMA nodes, hw:numa_nodes=2",
		Lifecycle:     "reboots, stops or starts a server and checks what it keeps",
	}
	for _, p := range vocab.Policies {
		r[Policy(p)] = "uses the " + p + " PCI NUMA affinity policy"
	}
	for _, rd := range vocab.Readings {
		r[NUMAReading(rd)] = "expects the " + rd + " reading of PCI NUMA affinity for multi-node guests"
	}
	for _, f := range vocab.Faults {
		r[Fault(f.Name)] = "must fail when the lab " + f.Lie
	}
	return r
}()

// mu guards registry: catalog labels are added while the spec tree is built.
var mu sync.RWMutex

// Known reports whether label is in the registry (case-insensitively, as Ginkgo matches).
func Known(label string) bool {
	mu.RLock()
	defer mu.RUnlock()
	_, ok := registry[strings.ToLower(strings.TrimSpace(label))]
	return ok
}

// Describe returns the description of a label ("" when unknown).
func Describe(label string) string {
	mu.RLock()
	defer mu.RUnlock()
	return registry[strings.ToLower(label)]
}

// All returns every registered label, sorted.
func All() []string {
	mu.RLock()
	defer mu.RUnlock()
	out := make([]string, 0, len(registry))
	for l := range registry {
		out = append(out, l)
	}
	sort.Strings(out)
	return out
}

// Alias returns the label of the specs that use a catalog alias, e.g. "alias:qat-c62x-vf".
func Alias(name string) string { return AliasKey + ":" + strings.ToLower(name) }

// AliasKey is the key of the per-alias labels.
const AliasKey = "alias"

// RegisterCatalog adds the labels a device catalog brings: one alias:<name> label per entry and
// the entries' own labels (lower-cased; Ginkgo matches labels case-insensitively). Call it before
// validating a filter against a run that uses that catalog.
func RegisterCatalog(cat *catalog.Catalog) {
	mu.Lock()
	defer mu.Unlock()
	for _, e := range cat.Entries() {
		registry[Alias(e.Alias)] = "uses the catalog alias " + e.Alias + " (" + e.DisplayName + ")"
		for _, l := range e.Labels {
			l = strings.ToLower(strings.TrimSpace(l))
			if _, ok := registry[l]; !ok {
				registry[l] = "device catalog label (" + e.Source + ")"
			}
		}
	}
}

// ForEntry are the labels of a spec about one catalog entry: its kind, its alias and its
// catalog labels (registered on the way).
func ForEntry(cat *catalog.Catalog, e catalog.Entry) []string {
	RegisterCatalog(cat)
	out := []string{Alias(e.Alias)}
	switch e.Kind {
	case catalog.KindQAT:
		out = append(out, QAT)
	case catalog.KindGPU:
		out = append(out, GPU)
	}
	for _, l := range e.Labels {
		l = strings.ToLower(strings.TrimSpace(l))
		if !slices.Contains(out, l) {
			out = append(out, l)
		}
	}
	return out
}

// Must returns its arguments after checking that each is registered; specs build their Label
// decorators through it so a typo fails when the spec tree is built, not silently at filter time.
func Must(ls ...string) []string {
	for _, l := range ls {
		if !Known(l) {
			panic(fmt.Sprintf("hwcert: label %q is not in framework/labels (known: %s)", l, strings.Join(All(), ", ")))
		}
	}
	return ls
}

// keys are the label keys usable in set operations.
func keys() []string {
	mu.RLock()
	defer mu.RUnlock()
	seen := map[string]bool{}
	for l := range registry {
		if k, _, ok := strings.Cut(l, ":"); ok {
			seen[k] = true
		}
	}
	out := make([]string, 0, len(seen))
	for k := range seen {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// Validate checks a Ginkgo label filter: it must parse, every label it names must be registered,
// every set key must be a registered key with registered values, and every /regexp/ must match
// at least one registered label.
func Validate(filter string) error {
	if strings.TrimSpace(filter) == "" {
		return nil
	}
	if _, err := types.ParseLabelFilter(filter); err != nil {
		return fmt.Errorf("label filter %q: %w", filter, err)
	}
	terms, err := scan(filter)
	if err != nil {
		return fmt.Errorf("label filter %q: %w", filter, err)
	}
	var problems []string
	for _, t := range terms {
		switch {
		case t.regex != "":
			re, err := regexp.Compile(t.regex)
			if err != nil {
				problems = append(problems, fmt.Sprintf("/%s/: %v", t.regex, err))
				continue
			}
			if !slices.ContainsFunc(All(), re.MatchString) {
				problems = append(problems, fmt.Sprintf("/%s/ matches no known label", t.regex))
			}
		case t.setKey != "":
			k := strings.ToLower(t.setKey)
			if !slices.Contains(keys(), k) {
				problems = append(problems, fmt.Sprintf("%q is not a known label key (known keys: %s)", t.setKey, strings.Join(keys(), ", ")))
				continue
			}
			for _, v := range t.setValues {
				if !Known(k + ":" + v) {
					problems = append(problems, fmt.Sprintf("%q is not a known value of %s", v, k))
				}
			}
		default:
			if !Known(t.label) {
				problems = append(problems, fmt.Sprintf("%q is not a known label", t.label))
			}
		}
	}
	if len(problems) > 0 {
		return fmt.Errorf("label filter %q: %s (known labels: %s)", filter, strings.Join(problems, "; "), strings.Join(All(), ", "))
	}
	return nil
}

// term is one operand of a label filter.
type term struct {
	label     string
	regex     string
	setKey    string
	setValues []string
}

// scan extracts the operands of a filter that Ginkgo has already parsed successfully. It follows
// Ginkgo's tokenizer: '&&', '||', '!', ',', '(' and ')' separate operands; "/re/" is a regexp;
// "key: op arg" (a colon followed by a space) is a set operation whose argument is "{a,b}" or a
// single value; "key:value" without the space is a plain label.
func scan(s string) ([]term, error) {
	var out []term
	r := []rune(s)
	i := 0
	for i < len(r) {
		switch c := r[i]; {
		case c == ' ' || c == '&' || c == '|' || c == '!' || c == ',' || c == '(' || c == ')':
			i++
		case c == '/':
			j := i + 1
			for j < len(r) && r[j] != '/' {
				j++
			}
			out = append(out, term{regex: string(r[i+1 : min(j, len(r))])})
			i = j + 1
		default:
			j := i
			for j < len(r) && !strings.ContainsRune("&|!,()/", r[j]) {
				if r[j] == ':' && j+1 < len(r) && r[j+1] == ' ' {
					break
				}
				j++
			}
			if j < len(r) && r[j] == ':' {
				t, next, err := scanSet(r, strings.TrimSpace(string(r[i:j])), j+2)
				if err != nil {
					return nil, err
				}
				out = append(out, t)
				i = next
				continue
			}
			if l := strings.TrimSpace(string(r[i:j])); l != "" {
				out = append(out, term{label: l})
			}
			i = j
		}
	}
	return out, nil
}

// scanSet reads "op arg" after "key: ", starting at i.
func scanSet(r []rune, key string, i int) (term, int, error) {
	for i < len(r) && r[i] == ' ' {
		i++
	}
	j := i
	for j < len(r) && r[j] != ' ' && r[j] != ')' {
		j++
	}
	op := strings.ToLower(string(r[i:j]))
	t := term{setKey: key}
	if op == "isempty" {
		return t, j, nil
	}
	i = j
	for i < len(r) && r[i] == ' ' {
		i++
	}
	if i < len(r) && r[i] == '{' {
		end := slices.Index(r[i:], '}')
		if end < 0 {
			return t, 0, fmt.Errorf("missing '}' after set key %q", key)
		}
		for _, v := range strings.Split(string(r[i+1:i+end]), ",") {
			t.setValues = append(t.setValues, strings.ToLower(strings.TrimSpace(v)))
		}
		return t, i + end + 1, nil
	}
	j = i
	for j < len(r) && !strings.ContainsRune("&|!,()/", r[j]) {
		j++
	}
	t.setValues = []string{strings.ToLower(strings.TrimSpace(string(r[i:j])))}
	return t, j, nil
}
