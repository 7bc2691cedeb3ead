package framework

import (
	"reflect"
	"testing"

	"github.com/hwcert/hwcert/config/vocab"
)

func specsOf(opts ...FlavorOption) map[string]string {
	o := flavorOptions{specs: map[string]string{}}
	for _, opt := range opts {
		opt(&o)
	}
	return o.specs
}

func TestFlavorOptionsWriteExtraSpecs(t *testing.T) {
	tests := []struct {
		name string
		opts []FlavorOption
		want map[string]string
	}{
		{"none", nil, map[string]string{}},
		{"every option", []FlavorOption{WithAlias("gpu", 1), WithAlias("qat-c62x-vf", 2), WithPCINUMAPolicy("required"),
			WithNUMANodes(2), WithDedicatedCPUs(), WithExtraSpec("hw:mem_page_size", "large")},
			map[string]string{vocab.SpecPCIAlias: "gpu:1,qat-c62x-vf:2", vocab.SpecPCINUMAPolicy: "required", vocab.SpecNUMANodes: "2",
				vocab.SpecCPUPolicy: "dedicated", "hw:mem_page_size": "large"}},
		{"verbatim alias", []FlavorOption{WithAliasSpec("gpu:1, qat-c62x-vf:2")}, map[string]string{vocab.SpecPCIAlias: "gpu:1, qat-c62x-vf:2"}},
		{"WithAlias appends to a verbatim value", []FlavorOption{WithAliasSpec("gpu:1"), WithAlias("qat-c62x-vf", 2)},
			map[string]string{vocab.SpecPCIAlias: "gpu:1,qat-c62x-vf:2"}},
		{"an extra spec set directly wins over an option, as Nova would store it", []FlavorOption{WithPCINUMAPolicy("required"), WithExtraSpec(vocab.SpecPCINUMAPolicy, "preferred")},
			map[string]string{vocab.SpecPCINUMAPolicy: "preferred"}},
	}
	for _, tt := range tests {
		if got := specsOf(tt.opts...); !reflect.DeepEqual(got, tt.want) {
			t.Errorf("%s: extra specs = %v, want %v", tt.name, got, tt.want)
		}
	}
}
