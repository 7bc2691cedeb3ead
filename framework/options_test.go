package framework

import (
	"reflect"
	"strings"
	"testing"

	"github.com/hwcert/hwcert/config/vocab"
)

func TestParseAliasSpec(t *testing.T) {
	tests := []struct {
		in      string
		want    []AliasCount
		wantErr string
	}{
		{"gpu:1", []AliasCount{{"gpu", 1}}, ""},
		{"gpu:1, qat-c62x-vf:2", []AliasCount{{"gpu", 1}, {"qat-c62x-vf", 2}}, ""},
		{" QuickAssist : 3, IntelNIC: 1", []AliasCount{{"QuickAssist", 3}, {"IntelNIC", 1}}, ""},
		{"gpu", nil, "is not NAME:COUNT"},
		{"a:b:1", nil, "is not NAME:COUNT"},
		{"gpu:x", nil, "is not a number"},
		{"gpu:-1", nil, "is not a number"},
	}
	for _, tt := range tests {
		got, err := ParseAliasSpec(tt.in)
		if tt.wantErr != "" {
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("ParseAliasSpec(%q) error = %v, want %q", tt.in, err, tt.wantErr)
			}
			continue
		}
		if err != nil || !reflect.DeepEqual(got, tt.want) {
			t.Errorf("ParseAliasSpec(%q) = %v, %v; want %v", tt.in, got, err, tt.want)
		}
	}
}

func TestFlavorOptionsExtraSpecs(t *testing.T) {
	var o flavorOptions
	for _, opt := range []FlavorOption{WithAlias("gpu", 1), WithAlias("qat-c62x-vf", 2), WithPCINUMAPolicy("required"),
		WithNUMANodes(2), WithDedicatedCPUs(), WithExtraSpec("hw:mem_page_size", "large")} {
		opt(&o)
	}
	want := map[string]string{
		vocab.SpecPCIAlias: "gpu:1,qat-c62x-vf:2", vocab.SpecPCINUMAPolicy: "required", vocab.SpecNUMANodes: "2",
		vocab.SpecCPUPolicy: "dedicated", "hw:mem_page_size": "large",
	}
	if got := o.extraSpecs(); !reflect.DeepEqual(got, want) {
		t.Errorf("extraSpecs() = %v, want %v", got, want)
	}
	var v flavorOptions
	WithAliasSpec("gpu:1, qat-c62x-vf:2")(&v)
	if got := v.extraSpecs()[vocab.SpecPCIAlias]; got != "gpu:1, qat-c62x-vf:2" {
		t.Errorf("verbatim alias spec = %q", got)
	}
	var none flavorOptions
	if got := none.extraSpecs(); len(got) != 0 {
		t.Errorf("no options: extra specs %v", got)
	}
}
