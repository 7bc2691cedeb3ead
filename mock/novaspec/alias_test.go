package novaspec

import (
	"errors"
	"math"
	"reflect"
	"strings"
	"testing"

	"github.com/hwcert/hwcert/config/vocab"
	"github.com/hwcert/hwcert/mock/lab"
)

// Every case of reference/nova-pci-numa.md §1, plus the order in which Nova hits its errors.
func TestParseAlias(t *testing.T) {
	cases := []struct {
		in      string
		want    []AliasCount
		errPart string // non-empty: a *MalformedAliasError mentioning this
	}{
		{"gpu:1, qat-c62x-vf:2", []AliasCount{{"gpu", 1}, {"qat-c62x-vf", 2}}, ""},
		{"gpu:1,qat-c62x-vf:2", []AliasCount{{"gpu", 1}, {"qat-c62x-vf", 2}}, ""},
		{" Cirrus Logic : 4, IntelNIC: 3", []AliasCount{{"Cirrus Logic", 4}, {"IntelNIC", 3}}, ""},
		{"QuickAssist : 3, IntelNIC: 1", []AliasCount{{"QuickAssist", 3}, {"IntelNIC", 1}}, ""},
		{"gpu:1 ,qat:2", []AliasCount{{"gpu", 1}, {"qat", 2}}, ""},
		{" gpu:1", []AliasCount{{"gpu", 1}}, ""},
		{"gpu: 1", []AliasCount{{"gpu", 1}}, ""},
		{"gpu:1 ", []AliasCount{{"gpu", 1}}, ""},
		{"gpu : 1", []AliasCount{{"gpu", 1}}, ""},
		{"gpu:0", []AliasCount{{"gpu", 0}}, ""},
		{"gpu:1,gpu:1", []AliasCount{{"gpu", 1}, {"gpu", 1}}, ""},
		{"gpu:-1", []AliasCount{{"gpu", -1}}, ""},
		{"gpu:+2", []AliasCount{{"gpu", 2}}, ""},
		{"gpu:1_0", []AliasCount{{"gpu", 10}}, ""},
		{"gpu:\u0663", []AliasCount{{"gpu", 3}}, ""}, // ARABIC-INDIC DIGIT THREE: int() accepts it
		{"gpu:\u00a02\u3000", []AliasCount{{"gpu", 2}}, ""},
		{"gpu:99999999999999999999999", []AliasCount{{"gpu", math.MaxInt32}}, ""},
		{"gpu", nil, "not enough values"},
		{"gpu:", nil, "invalid literal for int()"},
		{"gpu:1,,qat:2", nil, `element ""`},
		{"", nil, "not enough values"},
		{"a:b:1", nil, "too many values"},
		{"gpu:x", nil, "invalid literal"},
		{"gpu:1.0", nil, "invalid literal"},
		{"gpu:_1", nil, "invalid literal"},
		{"gpu:1__0", nil, "invalid literal"},
		{"gpu:1_", nil, "invalid literal"},
		{"gpu:" + strings.Repeat("1", 4301), nil, "invalid literal"},
	}
	for _, c := range cases {
		got, err := ParseAlias(c.in)
		if c.errPart != "" {
			var m *MalformedAliasError
			if !errors.As(err, &m) || !strings.Contains(err.Error(), c.errPart) {
				t.Errorf("ParseAlias(%q) = %v, %v; want *MalformedAliasError mentioning %q", c.in, got, err, c.errPart)
			}
			continue
		}
		if err != nil || !reflect.DeepEqual(got, c.want) {
			t.Errorf("ParseAlias(%q) = %v, %v; want %v", c.in, got, err, c.want)
		}
	}
}

var testAliases = []lab.Alias{
	{Name: "qat-c62x-vf", VendorID: "8086", ProductID: "37c9"},
	{Name: "gpu", VendorID: "10de", ProductID: "1b38", NUMAPolicy: vocab.PolicyPreferred},
	{Name: "gpu", VendorID: "10de", ProductID: "1eb8", NUMAPolicy: vocab.PolicyPreferred},
	{Name: "t4", VendorID: "10de", ProductID: "1eb8", DeviceType: vocab.TypePF, NUMAPolicy: vocab.PolicySocket},
}

func TestPCIRequests(t *testing.T) {
	type req struct {
		alias  string
		count  int
		specs  int
		typ    string
		policy string
	}
	cases := []struct {
		name  string
		specs map[string]string
		want  []req
		err   string // exact Error() for AliasNotDefinedError/InvalidPolicyError, substring for malformed
		kind  any
	}{
		{"no alias", map[string]string{"hw:numa_nodes": "1"}, nil, "", nil},
		{"default legacy", map[string]string{vocab.SpecPCIAlias: "qat-c62x-vf:2"}, []req{{"qat-c62x-vf", 2, 1, "", "legacy"}}, "", nil},
		{"alias policy, entries ORed", map[string]string{vocab.SpecPCIAlias: "gpu:1"}, []req{{"gpu", 1, 2, "", "preferred"}}, "", nil},
		{"flavor overrides alias", map[string]string{vocab.SpecPCIAlias: "gpu:1, t4:1", vocab.SpecPCINUMAPolicy: "required"},
			[]req{{"gpu", 1, 2, "", "required"}, {"t4", 1, 1, vocab.TypePF, "required"}}, "", nil},
		{"alias socket", map[string]string{vocab.SpecPCIAlias: "t4:1"}, []req{{"t4", 1, 1, vocab.TypePF, "socket"}}, "", nil},
		{"duplicates kept", map[string]string{vocab.SpecPCIAlias: "gpu:1,gpu:1"}, []req{{"gpu", 1, 2, "", "preferred"}, {"gpu", 1, 2, "", "preferred"}}, "", nil},
		{"count 0", map[string]string{vocab.SpecPCIAlias: "gpu:0"}, []req{{"gpu", 0, 2, "", "preferred"}}, "", nil},
		{"spaces", map[string]string{vocab.SpecPCIAlias: " gpu : 1 ,qat-c62x-vf: 2"}, []req{{"gpu", 1, 2, "", "preferred"}, {"qat-c62x-vf", 2, 1, "", "legacy"}}, "", nil},
		{"undefined", map[string]string{vocab.SpecPCIAlias: "qat-c62x-vf:1, nope:1"}, nil, "PCI alias nope is not defined", &AliasNotDefinedError{}},
		{"undefined name stripped", map[string]string{vocab.SpecPCIAlias: "  nope :1"}, nil, "PCI alias nope is not defined", &AliasNotDefinedError{}},
		// Every element is split before any name is checked...
		{"split before lookup", map[string]string{vocab.SpecPCIAlias: "nope:1,gpu"}, nil, "not enough values", &MalformedAliasError{}},
		// ...but a count is converted only after its own name was found.
		{"name before count", map[string]string{vocab.SpecPCIAlias: "nope:x"}, nil, "PCI alias nope is not defined", &AliasNotDefinedError{}},
		{"count before next name", map[string]string{vocab.SpecPCIAlias: "gpu:x,nope:1"}, nil, "invalid literal", &MalformedAliasError{}},
		{"empty element", map[string]string{vocab.SpecPCIAlias: "gpu:1,,qat-c62x-vf:2"}, nil, "not enough values", &MalformedAliasError{}},
		{"empty value", map[string]string{vocab.SpecPCIAlias: ""}, nil, "not enough values", &MalformedAliasError{}},
		{"bad flavor policy", map[string]string{vocab.SpecPCIAlias: "gpu:1", vocab.SpecPCINUMAPolicy: "sometimes"}, nil, "Invalid PCI NUMA affinity configured: sometimes", &InvalidPolicyError{}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got, err := PCIRequests(testAliases, c.specs)
			if c.err != "" {
				if err == nil || !strings.Contains(err.Error(), c.err) {
					t.Fatalf("err = %v, want %q", err, c.err)
				}
				switch c.kind.(type) {
				case *AliasNotDefinedError:
					var e *AliasNotDefinedError
					if !errors.As(err, &e) || err.Error() != c.err {
						t.Fatalf("err = %#v, want *AliasNotDefinedError %q", err, c.err)
					}
				case *MalformedAliasError:
					var e *MalformedAliasError
					if !errors.As(err, &e) {
						t.Fatalf("err = %#v, want *MalformedAliasError", err)
					}
				case *InvalidPolicyError:
					var e *InvalidPolicyError
					if !errors.As(err, &e) || err.Error() != c.err {
						t.Fatalf("err = %#v, want *InvalidPolicyError %q", err, c.err)
					}
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			var flat []req
			for _, r := range got {
				for _, s := range r.Specs {
					if s.Name != r.Alias {
						t.Errorf("request %s carries spec of %s", r.Alias, s.Name)
					}
				}
				flat = append(flat, req{r.Alias, r.Count, len(r.Specs), r.DeviceType, r.Policy})
			}
			if !reflect.DeepEqual(flat, c.want) {
				t.Fatalf("got %+v, want %+v", flat, c.want)
			}
		})
	}
}

// FuzzParseAlias: never panics; a value the 2.86 validator accepts either parses or fails only
// the way Nova's parser fails too (an empty element); what parses round-trips through its names.
func FuzzParseAlias(f *testing.F) {
	for _, s := range []string{"gpu:1, qat-c62x-vf:2", " Cirrus Logic : 4, IntelNIC: 3", "gpu", "gpu:1,,qat:2",
		"a:b:1", "gpu:-1", "gpu:\u0663", "gpu:1_000", ":", ",", "gpu:1 ", "x:" + strings.Repeat("9", 30)} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		got, err := ParseAlias(s)
		if err != nil {
			var m *MalformedAliasError
			if !errors.As(err, &m) {
				t.Fatalf("ParseAlias(%q): error %T, want *MalformedAliasError", s, err)
			}
			return
		}
		if len(got) != strings.Count(s, ",")+1 {
			t.Fatalf("ParseAlias(%q) = %d elements, want one per comma-separated part", s, len(got))
		}
		for _, a := range got {
			if a.Name != pyStrip(a.Name) || strings.ContainsAny(a.Name, ":,") {
				t.Fatalf("ParseAlias(%q): name %q not stripped or holds a separator", s, a.Name)
			}
		}
		if ValidateExtraSpec(vocab.SpecPCIAlias, s) == nil {
			for _, a := range got {
				if a.Count < 0 {
					t.Fatalf("ParseAlias(%q): the validator accepted a negative count %d", s, a.Count)
				}
			}
		}
	})
}
