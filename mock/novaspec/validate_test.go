package novaspec

import (
	"errors"
	"testing"

	"github.com/hwcert/hwcert/config/vocab"
)

func TestValidateExtraSpec(t *testing.T) {
	const aliasFmt = `'[^:]+:\d+(?:\s*,\s*[^:]+:\d+)*'`
	cases := []struct {
		key, value string
		want       string // "" = accepted, else Nova's exact 400 message
	}{
		// reference §2, pci_passthrough:alias
		{vocab.SpecPCIAlias, "gpu:1, qat-c62x-vf:2", ""},
		{vocab.SpecPCIAlias, "gpu:1,qat-c62x-vf:2", ""},
		{vocab.SpecPCIAlias, "gpu:1 ,qat:2", ""},
		{vocab.SpecPCIAlias, " gpu:1", ""},
		{vocab.SpecPCIAlias, "gpu:0", ""},
		{vocab.SpecPCIAlias, "gpu:1,gpu:1", ""},
		{vocab.SpecPCIAlias, "gpu:1,,qat:2", ""}, // the regexp lets [^:]+ eat a comma; the parser then fails
		{vocab.SpecPCIAlias, "gpu:1\t,\tqat:2", ""},
		{vocab.SpecPCIAlias, "gpu:\u0663", ""}, // Python's \d is Unicode-aware
		{vocab.SpecPCIAlias, "gpu", "Validation failed; 'gpu' is not of the format " + aliasFmt + "."},
		{vocab.SpecPCIAlias, "gpu:", "Validation failed; 'gpu:' is not of the format " + aliasFmt + "."},
		{vocab.SpecPCIAlias, "gpu : 1", "Validation failed; 'gpu : 1' is not of the format " + aliasFmt + "."},
		{vocab.SpecPCIAlias, "gpu: 1", "Validation failed; 'gpu: 1' is not of the format " + aliasFmt + "."},
		{vocab.SpecPCIAlias, "gpu:1 ", "Validation failed; 'gpu:1 ' is not of the format " + aliasFmt + "."},
		{vocab.SpecPCIAlias, "a:b:1", "Validation failed; 'a:b:1' is not of the format " + aliasFmt + "."},
		{vocab.SpecPCIAlias, "gpu:-1", "Validation failed; 'gpu:-1' is not of the format " + aliasFmt + "."},
		{vocab.SpecPCIAlias, "", "Validation failed; '' is not of the format " + aliasFmt + "."},
		{vocab.SpecPCIAlias, "gpu:1\n", "Validation failed; 'gpu:1\n' is not of the format " + aliasFmt + "."},
		// reference §2, hw:pci_numa_affinity_policy
		{"hw:pci_numa_affinity_policy", "required", ""},
		{"hw:pci_numa_affinity_policy", "preferred", ""},
		{"hw:pci_numa_affinity_policy", "legacy", ""},
		{"hw:pci_numa_affinity_policy", "socket", ""},
		{"hw:pci_numa_affinity_policy", "Required", "Validation failed; 'Required' is not one of: required, preferred, legacy, socket."},
		{"hw:pci_numa_affinity_policy", "", "Validation failed; '' is not one of: required, preferred, legacy, socket."},
		// unknown keys
		{"pci_passthrough:foo", "1", "Validation failed; extra spec 'pci_passthrough:foo' does not appear to be a valid extra spec."},
		{"hw:numa_node", "1", "Validation failed; extra spec 'hw:numa_node' does not appear to be a valid extra spec."},
		{"hw:cpu_max_sockets", "2", ""},
		{"hw:max_cpu_sockets", "2", "Validation failed; extra spec 'hw:max_cpu_sockets' does not appear to be a valid extra spec."},
		{"quota:bogus", "1", "Validation failed; extra spec 'quota:bogus' does not appear to be a valid extra spec."},
		{"resources1:VCPU", "x", "Validation failed; 'x' is not a valid integer value."},
		{"resources_GROUP:CUSTOM_FOO", "2", ""},
		{"trait:HW_CPU_X86_AVX2", "required", ""},
		{"trait:HW_CPU_X86_AVX2", "maybe", "Validation failed; 'maybe' is not one of: required, forbidden."},
		{"custom:anything", "whatever", ""},
		{"hw_foo:x", "1", ""},
		{"no_namespace", "1", ""},
		{"aggregate_instance_extra_specs:ssd", "true", ""},
		{"capabilities:hypervisor_type", "s== QEMU", ""},
		{"capabilities:cpu_info:arch", "x86_64", ""},
		{"capabilities:cpu_inf", "x", "Validation failed; extra spec 'capabilities:cpu_inf' does not appear to be a valid extra spec."},
		// hw: keys the harness uses
		{"hw:cpu_policy", "dedicated", ""},
		{"hw:cpu_policy", "shared", ""},
		{"hw:cpu_policy", "mixed", ""},
		{"hw:cpu_policy", "pinned", "Validation failed; 'pinned' is not one of: dedicated, shared, mixed."},
		{"hw:cpu_thread_policy", "isolate", ""},
		{"hw:cpu_thread_policy", "avoid", "Validation failed; 'avoid' is not one of: prefer, isolate, require."},
		{"hw:emulator_threads_policy", "share", ""},
		{"hw:emulator_threads_policy", "shared", "Validation failed; 'shared' is not one of: isolate, share."},
		{"hw:numa_nodes", "2", ""},
		{"hw:numa_nodes", " 2 ", ""},
		{"hw:numa_nodes", "0", "Validation failed; '0' is less than the min value of '1'."},
		{"hw:numa_nodes", "-03", "Validation failed; '-3' is less than the min value of '1'."},
		{"hw:numa_nodes", "two", "Validation failed; 'two' is not a valid integer value."},
		{"hw:numa_nodes", "1.5", "Validation failed; '1.5' is not a valid integer value."},
		{"hw:numa_cpus.0", "0-1,^1,3", ""},
		{"hw:numa_cpus.1", "0-", `Validation failed; '0-' is not of the format '\^?\d+((-\d+)?(,\^?\d+(-\d+)?)?)*'.`},
		{"hw:numa_cpus.x", "0", "Validation failed; extra spec 'hw:numa_cpus.x' does not appear to be a valid extra spec."},
		{"hw:numa_cpusX0", "0", ""}, // Nova's name regexp leaves the '.' unescaped
		{"hw:numa_mem.0", "1024", ""},
		{"hw:numa_mem.1", "0", "Validation failed; '0' is less than the min value of '1'."},
		{"hw:mem_page_size", "large", ""},
		{"hw:mem_page_size", "2MB", ""},
		{"hw:mem_page_size", "1GiB", ""},
		{"hw:mem_page_size", "2048", ""},
		{"hw:mem_page_size", "huge", `Validation failed; 'huge' is not of the format '(large|small|any|\d+([kKMGT]i?)?(b|bit|B)?)'.`},
		{"hw:cpu_sockets", "1", ""},
		{"hw:cpu_cores", "0", "Validation failed; '0' is less than the min value of '1'."},
		{"hw:cpu_threads", "2", ""},
		{"hw:cpu_realtime", "yes", ""},
		{"hw:cpu_realtime", "True", ""},
		{"hw:cpu_realtime", "sure", "Validation failed; 'sure' is not a valid boolean-like value."},
		{"hw:cpu_realtime_mask", "^0-1", ""},
		{"hw:cpu_dedicated_mask", "^0", ""},
		{"hw:redirected_usb_ports", "16", "Validation failed; '16' is greater than the max value of '15'."},
		{"hw:serial_port_count", "-1", "Validation failed; '-1' is less than the min value of '0'."},
		{"hw:watchdog_action", "reset", ""},
		{"hw:tpm_version", "2.0", ""},
		{"hw:pmem", "a,b", ""},
		{"hw_rng:allowed", "no", ""},
		{"hw_video:ram_max_mb", "64", ""},
		{"os:secure_boot", "required", ""},
		{"os:secure_boot", "optional", "Validation failed; 'optional' is not one of: disabled, required."},
		{"group_policy", "isolate", ""},
		{"group_policy", "spread", "Validation failed; 'spread' is not one of: isolate, none."},
		{"quota:disk_read_iops_sec", "100", ""},
		{"quota:cpu_quota", "-1", ""},
		{"quota:vif_inbound_burst", "-1", "Validation failed; '-1' is less than the min value of '0'."},
	}
	for _, c := range cases {
		err := ValidateExtraSpec(c.key, c.value)
		if c.want == "" {
			if err != nil {
				t.Errorf("ValidateExtraSpec(%q, %q) = %v, want accepted", c.key, c.value, err)
			}
			continue
		}
		var ve *ValidationError
		if !errors.As(err, &ve) || err.Error() != c.want {
			t.Errorf("ValidateExtraSpec(%q, %q) = %v\n want %s", c.key, c.value, err, c.want)
		}
	}
}

func TestValidateExtraSpecsReportsFirstKeyInOrder(t *testing.T) {
	err := ValidateExtraSpecs(map[string]string{"hw:numa_nodes": "0", "hw:cpu_policy": "x", "custom:y": "z"})
	if err == nil || err.Error() != "Validation failed; 'x' is not one of: dedicated, shared, mixed." {
		t.Fatalf("err = %v", err)
	}
}
