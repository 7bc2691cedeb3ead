package labels

import (
	"strings"
	"testing"
)

func TestValidate(t *testing.T) {
	tests := []struct {
		filter  string
		wantErr string // substring; "" means valid
	}{
		{"", ""},
		{"qat", ""},
		{"QAT && !negative", ""},
		{"qat || gpu", ""},
		{"(numa && policy:required) , serial", ""},
		{"fault:numa-misplace", ""},
		{"policy: containsAny {required, socket}", ""},
		{"policy: isEmpty", ""},
		{"numa-reading: consistsOf {upstream}", ""},
		{"/^policy:/", ""},
		{"/fault:.*/ && !serial", ""},
		{"qta", `"qta" is not a known label`},
		{"qat && nmua", `"nmua" is not a known label`},
		{"policy:strict", `"policy:strict" is not a known label`},
		{"fault:nope", `"fault:nope" is not a known label`},
		{"colour: containsAny {red}", `"colour" is not a known label key`},
		{"policy: containsAny {required, strict}", `"strict" is not a known value of policy`},
		{"/^zzz/", "matches no known label"},
		{"qat &", "label filter"},
		{"(qat", "label filter"},
	}
	for _, tt := range tests {
		err := Validate(tt.filter)
		if tt.wantErr == "" {
			if err != nil {
				t.Errorf("Validate(%q) = %v, want nil", tt.filter, err)
			}
			continue
		}
		if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
			t.Errorf("Validate(%q) = %v, want error containing %q", tt.filter, err, tt.wantErr)
		}
	}
}

func TestRegistryCoversFaultsAndPolicies(t *testing.T) {
	for _, l := range []string{"fault:numa-misplace", "fault:wrong-device", "fault:drop-hostdev", "fault:extra-hostdev",
		"fault:ignore-policy", "policy:required", "policy:legacy", "policy:preferred", "policy:socket",
		"numa-reading:upstream", "numa-reading:per-guest-node", "qat", "gpu", "starlingx-doc"} {
		if !Known(l) || Describe(l) == "" {
			t.Errorf("label %q missing from the registry or without description", l)
		}
	}
}

func TestMustPanicsOnUnknown(t *testing.T) {
	defer func() {
		if recover() == nil {
			t.Fatal("Must(\"bogus\") did not panic")
		}
	}()
	Must("qat", "bogus")
}

func FuzzValidate(f *testing.F) {
	for _, s := range []string{"qat && !gpu", "policy: containsAny {a,b}", "/x/", "(a||b),c", "k: isEmpty"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		_ = Validate(s) // must not panic
	})
}
