package extraspecs

import (
	"reflect"
	"strings"
	"testing"

	"github.com/hwcert/hwcert/config/vocab"
	"github.com/hwcert/hwcert/framework/catalog"
	"github.com/hwcert/hwcert/framework/verify"
)

func TestParseAlias(t *testing.T) {
	tests := []struct {
		in      string
		want    []AliasCount
		wantErr string
	}{
		{"gpu:1", []AliasCount{{"gpu", 1}}, ""},
		{"gpu:1, qat-c62x-vf:2", []AliasCount{{"gpu", 1}, {"qat-c62x-vf", 2}}, ""},
		{" QuickAssist : 3, IntelNIC: 1", []AliasCount{{"QuickAssist", 3}, {"IntelNIC", 1}}, ""},
		{"gpu:0", []AliasCount{{"gpu", 0}}, ""},
		{"gpu", nil, `element "gpu": expected NAME:COUNT`},
		{"a:b:1", nil, "expected NAME:COUNT"},
		{"gpu:1,", nil, `element "": expected NAME:COUNT`},
		{"gpu:x", nil, `count "x" of "gpu": expected a number`},
		{"gpu:-1", nil, "expected a number, 0 or more"},
	}
	for _, tt := range tests {
		got, err := ParseAlias(tt.in)
		if tt.wantErr != "" {
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("ParseAlias(%q) error = %v, want %q", tt.in, err, tt.wantErr)
			}
			continue
		}
		if err != nil || !reflect.DeepEqual(got, tt.want) {
			t.Errorf("ParseAlias(%q) = %v, %v; want %v", tt.in, got, err, tt.want)
		}
	}
}

// TestRequest covers every extra spec the suites set, verbatim values, aliases the catalog does
// not know, both readings, and malformed values.
func TestRequest(t *testing.T) {
	cat, err := catalog.Default()
	if err != nil {
		t.Fatal(err)
	}
	entry := func(alias string) catalog.Entry {
		e, ok := cat.Lookup(alias)
		if !ok {
			t.Fatalf("the shipped catalog has no %s", alias)
		}
		return e
	}
	alias := func(name string, n int) verify.AliasRequest { return verify.AliasRequest{Entry: entry(name), Count: n} }
	up, pgn := vocab.AffinityUpstream, vocab.AffinityPerGuestNode
	tests := []struct {
		name    string
		specs   map[string]string
		reading string
		want    verify.Request
		wantErr string
	}{
		{name: "no extra specs", specs: nil, reading: up, want: verify.Request{Affinity: up}},
		{name: "one alias", specs: map[string]string{vocab.SpecPCIAlias: "qat-c62x-vf:2"}, reading: up,
			want: verify.Request{Aliases: []verify.AliasRequest{alias("qat-c62x-vf", 2)}, Affinity: up}},
		{name: "StarlingX multi-alias, verbatim with the space", specs: map[string]string{vocab.SpecPCIAlias: "gpu:1, qat-c62x-vf:2"}, reading: up,
			want: verify.Request{Aliases: []verify.AliasRequest{alias("gpu", 1), alias("qat-c62x-vf", 2)}, Affinity: up}},
		{name: "an unsupported alias is judged as the catalog says", specs: map[string]string{vocab.SpecPCIAlias: "qat-c62x-pf:1"}, reading: up,
			want: verify.Request{Aliases: []verify.AliasRequest{alias("qat-c62x-pf", 1)}, Affinity: up}},
		{name: "an alias the catalog does not know keeps its name", specs: map[string]string{vocab.SpecPCIAlias: "hwcert-undefined-alias:1"}, reading: up,
			want: verify.Request{Aliases: []verify.AliasRequest{{Entry: catalog.Entry{Alias: "hwcert-undefined-alias"}, Count: 1}}, Affinity: up}},
		{name: "numa suite: one node, dedicated, flavor policy", reading: up,
			specs: map[string]string{vocab.SpecPCIAlias: "gpu:1", vocab.SpecNUMANodes: "1", vocab.SpecCPUPolicy: vocab.CPUDedicated, vocab.SpecPCINUMAPolicy: vocab.PolicyRequired},
			want:  verify.Request{Aliases: []verify.AliasRequest{alias("gpu", 1)}, GuestNUMANodes: 1, Dedicated: true, Policy: vocab.PolicyRequired, Affinity: up}},
		{name: "two nodes under the per-guest-node reading", reading: pgn,
			specs: map[string]string{vocab.SpecPCIAlias: "qat-c62x-vf:2", vocab.SpecNUMANodes: "2", vocab.SpecCPUPolicy: vocab.CPUDedicated, vocab.SpecPCINUMAPolicy: vocab.PolicyLegacy},
			want:  verify.Request{Aliases: []verify.AliasRequest{alias("qat-c62x-vf", 2)}, GuestNUMANodes: 2, Dedicated: true, Policy: vocab.PolicyLegacy, Affinity: pgn}},
		{name: "dedicated CPUs alone, socket policy", reading: up,
			specs: map[string]string{vocab.SpecPCIAlias: "gpu:1", vocab.SpecCPUPolicy: vocab.CPUDedicated, vocab.SpecPCINUMAPolicy: vocab.PolicySocket},
			want:  verify.Request{Aliases: []verify.AliasRequest{alias("gpu", 1)}, Dedicated: true, Policy: vocab.PolicySocket, Affinity: up}},
		{name: "shared CPUs are not dedicated", reading: up, specs: map[string]string{vocab.SpecCPUPolicy: vocab.CPUShared},
			want: verify.Request{Affinity: up}},
		{name: "a policy Nova would refuse is carried for the verdict to report", reading: up, specs: map[string]string{vocab.SpecPCINUMAPolicy: "strict"},
			want: verify.Request{Policy: "strict", Affinity: up}},
		{name: "extra specs that do not change placement are ignored", reading: up, specs: map[string]string{"hw:mem_page_size": "large", "aggregate_instance_extra_specs:pci": "true"},
			want: verify.Request{Affinity: up}},
		{name: "empty reading stays empty (the verdict reads it as upstream)", reading: "", specs: map[string]string{vocab.SpecPCIAlias: "gpu:1"},
			want: verify.Request{Aliases: []verify.AliasRequest{alias("gpu", 1)}}},
		{name: "malformed alias", reading: up, specs: map[string]string{vocab.SpecPCIAlias: "gpu: x"}, wantErr: `count " x" of "gpu"`},
		{name: "malformed hw:numa_nodes", reading: up, specs: map[string]string{vocab.SpecNUMANodes: "two"}, wantErr: `hw:numa_nodes "two": expected a whole number`},
		{name: "zero hw:numa_nodes", reading: up, specs: map[string]string{vocab.SpecNUMANodes: "0"}, wantErr: "1 or more"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Request(tt.specs, cat, tt.reading)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("Request() error = %v, want one containing %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("Request() =\n  %+v\nwant\n  %+v", got, tt.want)
			}
		})
	}
}

func FuzzParseAlias(f *testing.F) {
	for _, s := range []string{"gpu:1", "gpu:1, qat-c62x-vf:2", "a:b:1", ":", ",", "gpu:-1"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, v string) {
		got, err := ParseAlias(v)
		if err != nil {
			return
		}
		if len(got) != strings.Count(v, ",")+1 {
			t.Fatalf("ParseAlias(%q) = %v: one element per comma-separated part expected", v, got)
		}
		for _, a := range got {
			if a.Count < 0 || strings.TrimSpace(a.Alias) != a.Alias {
				t.Fatalf("ParseAlias(%q) = %v: untrimmed name or negative count", v, got)
			}
		}
	})
}
