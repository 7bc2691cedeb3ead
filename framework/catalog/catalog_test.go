package catalog

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/hwcert/hwcert/config/vocab"
)

func TestDefaultCatalog(t *testing.T) {
	c, err := Default()
	if err != nil {
		t.Fatal(err)
	}
	// The StarlingX aliases and IDs (reference §7) and what the shipped catalog says of them.
	want := []struct {
		alias, id, function, kind string
		supported, optional       bool
	}{
		{"qat-dh895xcc-pf", "8086:0435", "pf", "qat", false, false},
		{"qat-dh895xcc-vf", "8086:0443", "vf", "qat", true, false},
		{"qat-c62x-pf", "8086:37c8", "pf", "qat", false, false},
		{"qat-c62x-vf", "8086:37c9", "vf", "qat", true, false},
		{"gpu", "10de:1b38", "pci", "gpu", true, false},
		{"matrox-g200e", "102b:0522", "pci", "gpu", true, true},
		{"nvidia-tesla-m60", "10de:13f2", "pci", "gpu", true, true},
		{"nvidia-tesla-p40", "10de:1b38", "pci", "gpu", true, true},
		{"nvidia-tesla-t4-pf", "10de:1eb8", "pf", "gpu", true, true},
	}
	for _, w := range want {
		e, ok := c.Lookup(w.alias)
		if !ok {
			t.Errorf("%s missing", w.alias)
			continue
		}
		if e.ID() != w.id || e.Function != w.function || e.Kind != w.kind || e.PassthroughSupported != w.supported || e.Optional != w.optional {
			t.Errorf("%s = %+v", w.alias, e)
		}
		if !e.PassthroughSupported && e.UnsupportedReason == "" {
			t.Errorf("%s: unsupported without a reason", w.alias)
		}
	}
	if n := len(c.Entries()); n != len(want) {
		t.Errorf("%d entries, want %d: %v", n, len(want), c.Aliases())
	}
	for _, e := range c.Supported() {
		if strings.HasPrefix(e.Alias, "qat-") && e.Function == vocab.FunctionPF {
			t.Errorf("QAT PF %s listed as supported", e.Alias)
		}
	}
	if u := c.Unsupported(); len(u) != 2 {
		t.Errorf("unsupported = %v, want the two QAT PFs", u)
	}
	if m := c.Match("0x10DE", "0x1B38"); len(m) != 2 || m[0].Alias != "gpu" || m[1].Alias != "nvidia-tesla-p40" {
		t.Errorf("Match(P40) = %v", m)
	}
	if m := c.Match("8086", "37c9"); len(m) != 1 || m[0].Alias != "qat-c62x-vf" {
		t.Errorf("Match(C62x VF) = %v", m)
	}
	if _, ok := c.Lookup("qat-c62x"); ok {
		t.Error("Lookup of an undefined alias succeeded")
	}
	if e, ok := c.Lookup(" qat-c62x-vf "); !ok || e.Alias != "qat-c62x-vf" {
		t.Error("Lookup must trim like Nova does")
	}
}

// TestLoadDirectoryMatchesEmbedded keeps fixtures/devices and the embedded copy the same thing.
func TestLoadDirectoryMatchesEmbedded(t *testing.T) {
	dir, err := Load(filepath.Join("..", "..", "fixtures", "devices"))
	if err != nil {
		t.Fatal(err)
	}
	emb, err := Load("")
	if err != nil {
		t.Fatal(err)
	}
	if strings.Join(dir.Aliases(), ",") != strings.Join(emb.Aliases(), ",") {
		t.Errorf("directory %v != embedded %v", dir.Aliases(), emb.Aliases())
	}
	e, _ := dir.Lookup("qat-c62x-vf")
	if !strings.HasSuffix(e.Source, filepath.Join("fixtures", "devices", "intel-qat.yaml")+"#3") {
		t.Errorf("source = %q", e.Source)
	}
}

func TestLoadFileAndErrors(t *testing.T) {
	dir := t.TempDir()
	good := filepath.Join(dir, "card.yaml")
	write(t, good, `devices:
  - alias: acme-x1-vf
    vendor_id: "1D0F"
    product_id: "0x00AB"
    function: vf
    kind: other
`)
	c, err := Load(good)
	if err != nil {
		t.Fatal(err)
	}
	e, _ := c.Lookup("acme-x1-vf")
	if e.ID() != "1d0f:00ab" || !e.PassthroughSupported || e.DisplayName != "acme-x1-vf" {
		t.Errorf("normalised entry = %+v", e)
	}
	// A duplicate alias in a second file names both places.
	write(t, filepath.Join(dir, "dup.yml"), "devices:\n  - {alias: acme-x1-vf, vendor_id: \"1d0f\", product_id: \"00ac\", function: vf, kind: other}\n")
	write(t, filepath.Join(dir, "README.md"), "not a catalog file")
	_, err = Load(dir)
	if err == nil || !strings.Contains(err.Error(), `dup.yml: devices[0].alias: "acme-x1-vf": a unique alias name, already defined at `+good+"#0") {
		t.Errorf("duplicate across files: %v", err)
	}
	if _, err := Load(filepath.Join(dir, "nope")); err == nil || !strings.Contains(err.Error(), "nope") {
		t.Errorf("missing path: %v", err)
	}
	empty := t.TempDir()
	if _, err := Load(empty); err == nil || !strings.Contains(err.Error(), "no *.yaml files") {
		t.Errorf("empty dir: %v", err)
	}
}

// TestEntryValidation lists every entry error: file, index, alias, field, value, expectation.
func TestEntryValidation(t *testing.T) {
	base := map[string]string{"alias": "acme", "vendor_id": `"8086"`, "product_id": `"37c9"`, "function": "vf", "kind": "qat"}
	cases := []struct {
		name string
		set  map[string]string
		want string
	}{
		{"alias empty", map[string]string{"alias": `""`}, `devices[0] (unnamed): alias: "": an alias name of letters, digits`},
		{"alias colon", map[string]string{"alias": `"qat:vf"`}, `devices[0] (qat:vf): alias: "qat:vf": an alias name of letters, digits, '.', '_' or '-' (no ':', ',' or spaces)`},
		{"alias comma", map[string]string{"alias": `"a,b"`}, `alias: "a,b": an alias name`},
		{"alias space", map[string]string{"alias": `"qat vf"`}, `alias: "qat vf": an alias name`},
		{"vendor short", map[string]string{"vendor_id": `"886"`}, `devices[0] (acme): vendor_id: "886": 4 hex digits, e.g. "8086" (quote it in YAML)`},
		{"vendor not hex", map[string]string{"vendor_id": `"80g6"`}, `vendor_id: "80g6": 4 hex digits`},
		{"product unquoted octal", map[string]string{"product_id": `0443`}, `product_id: "291": 4 hex digits, e.g. "37c9" (quote it in YAML)`},
		{"product", map[string]string{"product_id": `"37c9a"`}, `product_id: "37c9a": 4 hex digits, e.g. "37c9" (quote it in YAML)`},
		{"function", map[string]string{"function": "sriov"}, `function: "sriov": one of pf, vf, pci`},
		{"kind", map[string]string{"kind": "fpga"}, `kind: "fpga": one of qat, gpu, other`},
		{"unsupported without reason", map[string]string{"passthrough_supported": "false"}, `unsupported_reason: "": a reason, required when passthrough_supported is false`},
		{"reason while supported", map[string]string{"unsupported_reason": "x"}, `unsupported_reason: "x": empty unless passthrough_supported is false`},
		{"numa policy", map[string]string{"numa_policy": "strict"}, `numa_policy: "strict": one of legacy, preferred, required, socket (or omitted)`},
		{"device type", map[string]string{"nova_device_type": "type-VDPA"}, `nova_device_type: "type-VDPA": one of type-PCI, type-PF, type-VF (or omitted)`},
		{"device type PF on VF", map[string]string{"nova_device_type": "type-PF"}, `nova_device_type: "type-PF": type-PF only on an alias whose function is pf`},
		{"label", map[string]string{"labels": `[QAT, "a|b"]`}, `labels[1]: "a|b": a Ginkgo label: non-empty, without any of &|!,()/`},
		{"label starting with a colon", map[string]string{"labels": `[":x"]`}, `labels[0]: ":x": a Ginkgo label`},
		{"label with a key and no value", map[string]string{"labels": `["vendor:"]`}, `labels[0]: "vendor:": a Ginkgo label`},
		{"unknown field", map[string]string{"vendor": `"8086"`}, `unknown field "vendor"`},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			fields := map[string]string{}
			for k, v := range base {
				fields[k] = v
			}
			for k, v := range tc.set {
				fields[k] = v
			}
			var b strings.Builder
			b.WriteString("devices:\n  - ")
			first := true
			for _, k := range []string{"alias", "vendor_id", "vendor", "product_id", "function", "kind", "passthrough_supported", "unsupported_reason", "numa_policy", "nova_device_type", "labels"} {
				v, ok := fields[k]
				if !ok {
					continue
				}
				if !first {
					b.WriteString("    ")
				}
				first = false
				b.WriteString(k + ": " + v + "\n")
			}
			_, err := Parse("vendor.yaml", []byte(b.String()))
			if err == nil {
				t.Fatalf("accepted:\n%s", b.String())
			}
			if !strings.Contains(err.Error(), tc.want) || !strings.Contains(err.Error(), "device catalog vendor.yaml") {
				t.Errorf("error %q\nlacks %q", err, tc.want)
			}
		})
	}
	// Several problems of several entries are all reported.
	_, err := Parse("multi.yaml", []byte("devices:\n  - {alias: a, vendor_id: x, product_id: y, function: vf, kind: qat}\n  - {alias: b, vendor_id: \"8086\", product_id: \"0443\", function: z, kind: w}\n"))
	if err == nil || strings.Count(err.Error(), "\n") != 3 {
		t.Errorf("want 4 problems, got: %v", err)
	}
	if _, err := Parse("empty.yaml", []byte("devices: []\n")); err == nil || !strings.Contains(err.Error(), "devices: no entries") {
		t.Errorf("empty file: %v", err)
	}
}

func write(t *testing.T, path, data string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(data), 0o644); err != nil {
		t.Fatal(err)
	}
}

// An unquoted product_id with a leading zero is read by YAML as an octal number: the error says
// where, and to quote it.
func TestParseSaysToQuoteAnOctalID(t *testing.T) {
	data := "devices:\n  - alias: x\n    display_name: X\n    vendor_id: \"8086\"\n    product_id: 0443\n    function: vf\n    kind: qat\n"
	_, err := Parse("cards.yaml", []byte(data))
	want := `(line 5, column 17); YAML reads the unquoted 0443 as a number: write it quoted, "0443"`
	if err == nil || !strings.Contains(err.Error(), "devices[0] (x): product_id") || !strings.Contains(err.Error(), want) {
		t.Fatalf("Parse = %v, want the product_id error with %q", err, want)
	}
}
