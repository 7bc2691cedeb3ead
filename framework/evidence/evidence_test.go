package evidence

import (
	"strings"
	"testing"
)

func TestSafeName(t *testing.T) {
	tests := []struct{ in, want string }{
		{"hwcert-20261201-vm1", "hwcert-20261201-vm1"},
		{"PCI NUMA affinity the flavor's policy [numa, qat] gpu, required", "PCI_NUMA_affinity_the_flavor_s_policy_numa_qat_gpu_required"},
		{"../../etc/passwd", ".._.._etc_passwd"},
		{"///", "unnamed"},
		{"", "unnamed"},
		{strings.Repeat("a", 200), strings.Repeat("a", 120)},
	}
	for _, tt := range tests {
		if got := SafeName(tt.in); got != tt.want {
			t.Errorf("SafeName(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
	if got := SpecDir("a b", 3); got != "a_b-p3" {
		t.Errorf("SpecDir = %q", got)
	}
}
