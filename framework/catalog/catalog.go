// Package catalog is the device catalog: which PCI passthrough aliases a lab defines, which
// vendor/product IDs each stands for, whether the device is a PF, a VF or a plain PCI function,
// and whether passthrough of it is supported at all. It is data (fixtures/devices/*.yaml), so a
// vendor certifies a new card by adding an entry, without writing Go.
package catalog

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"regexp"
	"slices"
	"strings"

	"github.com/onsi/ginkgo/v2/types"
	"sigs.k8s.io/yaml"

	"github.com/hwcert/hwcert/config"
	"github.com/hwcert/hwcert/config/vocab"
	"github.com/hwcert/hwcert/config/yamlpos"
	"github.com/hwcert/hwcert/fixtures/devices"
)

// Device kinds, used to pick specs and labels.
const (
	KindQAT   = "qat"
	KindGPU   = "gpu"
	KindOther = "other"
)

// Entry is one alias of the catalog.
type Entry struct {
	// Alias is the nova [pci] alias name, as used in pci_passthrough:alias.
	Alias string `json:"alias"`
	// DisplayName is what reports call the device.
	DisplayName string `json:"display_name"`
	// VendorID and ProductID are 4 lowercase hex digits (normalised at load).
	VendorID  string `json:"vendor_id"`
	ProductID string `json:"product_id"`
	// Function is pf, vf or pci: what the matched device must be.
	Function string `json:"function"`
	// Kind is qat, gpu or other.
	Kind string `json:"kind"`
	// PassthroughSupported is false for aliases that must never end up attached to an ACTIVE
	// server (StarlingX QAT PFs). Omitted means true.
	PassthroughSupported bool `json:"passthrough_supported"`
	// UnsupportedReason says why passthrough is not supported; required when it is not.
	UnsupportedReason string `json:"unsupported_reason,omitempty"`
	// Optional marks aliases a lab defines only if the operator added them (the StarlingX
	// override example); specs for them run only where the lab declares them.
	Optional bool `json:"optional,omitempty"`
	// NUMAPolicy is the alias's numa_policy (legacy, preferred, required, socket); empty means
	// the alias sets none, which Nova treats as legacy.
	NUMAPolicy string `json:"numa_policy,omitempty"`
	// NovaDeviceType is the alias's device_type (type-PCI, type-PF, type-VF), empty when the
	// alias sets none (then Nova matches PCI devices and VFs, never PFs).
	NovaDeviceType string `json:"nova_device_type,omitempty"`
	// Labels are extra Ginkgo labels for the specs that use this alias (e.g. QAT, C62x).
	Labels []string `json:"labels,omitempty"`

	// Source is "file#index" the entry was read from, for messages.
	Source string `json:"-"`
}

// Matches says whether a device with these IDs is one this alias stands for. IDs are compared
// case-insensitively and a "0x" prefix (libvirt nodedev style) is ignored.
func (e Entry) Matches(vendorID, productID string) bool {
	return NormalizeID(vendorID) == e.VendorID && NormalizeID(productID) == e.ProductID
}

// ID is "vendor:product", e.g. "8086:37c9".
func (e Entry) ID() string { return e.VendorID + ":" + e.ProductID }

// NormalizeID lowercases a PCI ID and strips a "0x" prefix: "0x8086" → "8086".
func NormalizeID(id string) string {
	id = strings.ToLower(strings.TrimSpace(id))
	return strings.TrimPrefix(id, "0x")
}

// Catalog is a validated set of entries with unique alias names.
type Catalog struct {
	entries []Entry
	byAlias map[string]int
}

// file is the on-disk form of one catalog file.
type file struct {
	Devices []rawEntry `json:"devices"`
}

// rawEntry distinguishes an omitted passthrough_supported from false.
type rawEntry struct {
	Alias                string   `json:"alias"`
	DisplayName          string   `json:"display_name"`
	VendorID             string   `json:"vendor_id"`
	ProductID            string   `json:"product_id"`
	Function             string   `json:"function"`
	Kind                 string   `json:"kind"`
	PassthroughSupported *bool    `json:"passthrough_supported"`
	UnsupportedReason    string   `json:"unsupported_reason"`
	Optional             bool     `json:"optional"`
	NUMAPolicy           string   `json:"numa_policy"`
	NovaDeviceType       string   `json:"nova_device_type"`
	Labels               []string `json:"labels"`
}

var (
	hexID = regexp.MustCompile(`^[0-9a-f]{4}$`)
	// Alias names end up inside pci_passthrough:alias ("name:count,..."), so ':' and ',' would
	// make them unparseable; Nova strips surrounding spaces, so they could never match either.
	aliasRE = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]{0,254}$`)
	// Ginkgo label syntax forbids these characters (types.ValidateAndCleanupLabel).
	labelForbidden = "&|!,()/"
)

// Default is the catalog shipped with hwcert (fixtures/devices, embedded in the binary).
func Default() (*Catalog, error) {
	return LoadFS(devices.Files, ".")
}

// Load reads a catalog file, or every *.yaml / *.yml file of a directory (in name order).
// An empty path means the shipped catalog (Default).
func Load(pathOrDir string) (*Catalog, error) {
	if pathOrDir == "" {
		return Default()
	}
	st, err := os.Stat(pathOrDir)
	if err != nil {
		return nil, fmt.Errorf("device catalog: %w", err)
	}
	if !st.IsDir() {
		data, err := config.ReadYAMLFile(pathOrDir)
		if err != nil {
			return nil, fmt.Errorf("device catalog: %w", err)
		}
		return parseFiles([]namedData{{pathOrDir, data}})
	}
	return loadDir(os.DirFS(pathOrDir), ".", pathOrDir)
}

// LoadFS reads every *.yaml / *.yml file of dir in fsys.
func LoadFS(fsys fs.FS, dir string) (*Catalog, error) {
	return loadDir(fsys, dir, dir)
}

type namedData struct {
	name string
	data []byte
}

func loadDir(fsys fs.FS, dir, display string) (*Catalog, error) {
	ents, err := fs.ReadDir(fsys, dir)
	if err != nil {
		return nil, fmt.Errorf("device catalog %s: %w", display, err)
	}
	var files []namedData
	for _, de := range ents {
		if de.IsDir() || !(strings.HasSuffix(de.Name(), ".yaml") || strings.HasSuffix(de.Name(), ".yml")) {
			continue
		}
		if !de.Type().IsRegular() {
			return nil, fmt.Errorf("device catalog %s: %s is not a regular file", display, de.Name())
		}
		data, err := fs.ReadFile(fsys, path.Join(dir, de.Name()))
		if err == nil && len(data) > config.MaxFileSize {
			err = fmt.Errorf("%s: larger than %d bytes", de.Name(), config.MaxFileSize)
		}
		if err == nil {
			err = config.SingleDocument(data)
		}
		if err != nil {
			return nil, fmt.Errorf("device catalog %s: %w", display, err)
		}
		files = append(files, namedData{filepath.Join(display, de.Name()), data})
	}
	if len(files) == 0 {
		return nil, fmt.Errorf("device catalog %s: no *.yaml files", display)
	}
	return parseFiles(files)
}

// Parse reads one catalog file's YAML; name appears in errors.
func Parse(name string, data []byte) (*Catalog, error) {
	return parseFiles([]namedData{{name, data}})
}

func parseFiles(files []namedData) (*Catalog, error) {
	c := &Catalog{byAlias: map[string]int{}}
	var errs []error
	for _, f := range files {
		var raw file
		doc := yamlpos.Parse(f.data)
		if err := yaml.UnmarshalStrict(f.data, &raw); err != nil {
			errs = append(errs, fmt.Errorf("device catalog %s: %w", f.name, doc.Annotate(err)))
			continue
		}
		if len(raw.Devices) == 0 {
			errs = append(errs, fmt.Errorf("device catalog %s: devices: no entries: expected a list of aliases", f.name))
		}
		for i, r := range raw.Devices {
			e, problems := r.validate()
			e.Source = fmt.Sprintf("%s#%d", f.name, i)
			for _, p := range problems {
				field, _, _ := strings.Cut(p, ":")
				errs = append(errs, fmt.Errorf("device catalog %s: devices[%d] (%s): %s%s", f.name, i, orUnnamed(r.Alias), p, doc.Where(fmt.Sprintf("devices[%d].%s", i, field))))
			}
			if len(problems) > 0 {
				continue
			}
			if j, dup := c.byAlias[e.Alias]; dup {
				errs = append(errs, fmt.Errorf("device catalog %s: devices[%d].alias: %q: a unique alias name, already defined at %s",
					f.name, i, e.Alias, c.entries[j].Source))
				continue
			}
			c.byAlias[e.Alias] = len(c.entries)
			c.entries = append(c.entries, e)
		}
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	return c, nil
}

func orUnnamed(alias string) string {
	if alias == "" {
		return "unnamed"
	}
	return alias
}

// validate normalises r into an Entry and lists every problem as "field: value: expectation".
func (r rawEntry) validate() (Entry, []string) {
	var problems []string
	bad := func(field, value, expected string) {
		problems = append(problems, fmt.Sprintf("%s: %q: %s", field, value, expected))
	}
	e := Entry{
		Alias:             strings.TrimSpace(r.Alias),
		DisplayName:       strings.TrimSpace(r.DisplayName),
		VendorID:          NormalizeID(r.VendorID),
		ProductID:         NormalizeID(r.ProductID),
		Function:          r.Function,
		Kind:              r.Kind,
		UnsupportedReason: strings.TrimSpace(r.UnsupportedReason),
		Optional:          r.Optional,
		NUMAPolicy:        r.NUMAPolicy,
		NovaDeviceType:    r.NovaDeviceType,
		Labels:            slices.Clone(r.Labels),
	}
	if !aliasRE.MatchString(e.Alias) {
		bad("alias", r.Alias, "an alias name of letters, digits, '.', '_' or '-' (no ':', ',' or spaces), at most 255 characters")
	}
	if e.DisplayName == "" {
		e.DisplayName = e.Alias
	}
	if !hexID.MatchString(e.VendorID) {
		bad("vendor_id", r.VendorID, `4 hex digits, e.g. "8086" (quote it in YAML)`)
	}
	if !hexID.MatchString(e.ProductID) {
		bad("product_id", r.ProductID, `4 hex digits, e.g. "37c9" (quote it in YAML)`)
	}
	switch e.Function {
	case vocab.FunctionPF, vocab.FunctionVF, vocab.FunctionPCI:
	default:
		bad("function", r.Function, "one of pf, vf, pci")
	}
	switch e.Kind {
	case KindQAT, KindGPU, KindOther:
	default:
		bad("kind", r.Kind, "one of qat, gpu, other")
	}
	e.PassthroughSupported = r.PassthroughSupported == nil || *r.PassthroughSupported
	switch {
	case !e.PassthroughSupported && e.UnsupportedReason == "":
		bad("unsupported_reason", "", "a reason, required when passthrough_supported is false")
	case e.PassthroughSupported && e.UnsupportedReason != "":
		bad("unsupported_reason", r.UnsupportedReason, "empty unless passthrough_supported is false")
	}
	switch e.NUMAPolicy {
	case "", vocab.PolicyLegacy, vocab.PolicyPreferred, vocab.PolicyRequired, vocab.PolicySocket:
	default:
		bad("numa_policy", r.NUMAPolicy, "one of legacy, preferred, required, socket (or omitted)")
	}
	switch e.NovaDeviceType {
	case "", vocab.TypePCI, vocab.TypeVF:
	case vocab.TypePF:
		if e.Function != vocab.FunctionPF {
			bad("nova_device_type", r.NovaDeviceType, "type-PF only on an alias whose function is pf")
		}
	default:
		bad("nova_device_type", r.NovaDeviceType, "one of type-PCI, type-PF, type-VF (or omitted)")
	}
	for i, l := range e.Labels {
		// Ginkgo's own rule, so a label it would refuse when the spec tree is built (naming no
		// file) is refused here, naming the file and the entry.
		if _, err := types.ValidateAndCleanupLabel(l, types.CodeLocation{}); err != nil {
			bad(fmt.Sprintf("labels[%d]", i), l, "a Ginkgo label: non-empty, without any of "+labelForbidden+", not starting with ':' and with a value after a ':'")
		}
	}
	return e, problems
}

// Lookup finds an alias.
func (c *Catalog) Lookup(alias string) (Entry, bool) {
	i, ok := c.byAlias[strings.TrimSpace(alias)]
	if !ok {
		return Entry{}, false
	}
	return c.entries[i], true
}

// Entries are every alias, in file order.
func (c *Catalog) Entries() []Entry { return slices.Clone(c.entries) }

// Aliases are every alias name, in file order.
func (c *Catalog) Aliases() []string {
	out := make([]string, len(c.entries))
	for i, e := range c.entries {
		out[i] = e.Alias
	}
	return out
}

// Supported are the aliases whose devices may be passed through, in file order.
func (c *Catalog) Supported() []Entry {
	var out []Entry
	for _, e := range c.entries {
		if e.PassthroughSupported {
			out = append(out, e)
		}
	}
	return out
}

// Unsupported are the aliases that must never end up attached (e.g. QAT PFs), in file order.
func (c *Catalog) Unsupported() []Entry {
	var out []Entry
	for _, e := range c.entries {
		if !e.PassthroughSupported {
			out = append(out, e)
		}
	}
	return out
}

// Match returns every alias that stands for a device with these IDs (several aliases may share
// IDs, e.g. gpu and nvidia-tesla-p40), in file order.
func (c *Catalog) Match(vendorID, productID string) []Entry {
	var out []Entry
	for _, e := range c.entries {
		if e.Matches(vendorID, productID) {
			out = append(out, e)
		}
	}
	return out
}
