package novaspec

import (
	"fmt"
	"math/big"
	"regexp"
	"slices"
	"strings"

	"github.com/hwcert/hwcert/config/vocab"
)

// ValidationError is Nova's extra spec ValidationError: HTTP 400 with Message as the body's
// "message" (POST /flavors/{id}/os-extra_specs and PUT .../{key}, microversion >= 2.86).
type ValidationError struct{ Message string }

func (e *ValidationError) Error() string { return e.Message }

func invalid(format string, args ...any) error {
	return &ValidationError{Message: fmt.Sprintf(format, args...)}
}

type valueKind int

const (
	kindStr valueKind = iota
	kindInt
	kindBool
)

// validator mirrors nova.api.validation.extra_specs.base.ExtraSpecValidator.
type validator struct {
	name    string         // literal name, or the human form ("hw:numa_cpus.{num}") when nameRe is set
	nameRe  *regexp.Regexp // set for names with parameters
	kind    valueKind
	enum    []string
	pattern string // the Python pattern, quoted verbatim in messages
	re      *regexp.Regexp
	min     *int64
	max     *int64
}

// pyPattern compiles a Python str pattern for re.fullmatch. The patterns Nova uses only need \d
// and \s translated to their Unicode-aware meaning; RE2 covers the rest.
func pyPattern(p string) *regexp.Regexp {
	g := strings.NewReplacer(`\d`, pyDigitClass, `\s`, pySpaceClass, `\w`, `[\p{L}\p{N}_]`).Replace(p)
	return regexp.MustCompile(`\A(?:` + g + `)\z`)
}

func i64(v int64) *int64 { return &v }

func vStr(name string) validator { return validator{name: name} }
func vBool(name string) validator {
	return validator{name: name, kind: kindBool}
}
func vEnum(name string, values ...string) validator { return validator{name: name, enum: values} }
func vPattern(name, pattern string) validator {
	return validator{name: name, pattern: pattern, re: pyPattern(pattern)}
}
func vInt(name string, min, max *int64) validator {
	return validator{name: name, kind: kindInt, min: min, max: max}
}

// withParams turns a validator's "{param}" placeholders into a name regexp, as base.py does by
// plain substitution (so the '.' of "hw:numa_cpus.{num}" stays a regexp wildcard, as in Nova).
func withParams(v validator, params map[string]string) validator {
	re := v.name
	for p, pat := range params {
		re = strings.ReplaceAll(re, "{"+p+"}", "(?:"+pat+")")
	}
	v.nameRe = pyPattern(re)
	return v
}

const (
	cpuMaskPattern       = `\^?\d+((-\d+)?(,\^?\d+(-\d+)?)?)*`
	realtimeMaskPattern  = `(\^)?\d+((-\d+)?(,\^?\d+(-\d+)?)?)*`
	pageSizePattern      = `(large|small|any|\d+([kKMGT]i?)?(b|bit|B)?)`
	aliasPattern         = `[^:]+:\d+(?:\s*,\s*[^:]+:\d+)*`
	groupPattern         = `([a-zA-Z0-9_-]{1,64})?`
	capabilityFilterPatt = `(:\w+)*`
)

// validators is Nova's registry (openstack/nova master, API 2.104) for the namespaces modelled:
// hw, hw_rng, hw_video, pci_passthrough, os, accel, vmware, quota, capabilities,
// aggregate_instance_extra_specs and the un-namespaced ones. resources* and trait* keys are
// recognised by shape only (any resource class or trait name), because their names come from the
// os-resource-classes and os-traits libraries; their values are still checked.
var validators, paramValidators = buildValidators()

// namespaces are the namespace regexps of the registry: a key in one of them that no validator
// knows is rejected.
var namespaces = []*regexp.Regexp{}

func buildValidators() (map[string]validator, []validator) {
	zero, one := i64(0), i64(1)
	list := []validator{
		// null namespace
		vBool("hide_hypervisor_id"),
		vEnum("group_policy", "isolate", "none"),
		// hw
		vBool("hw:cpu_realtime"),
		vPattern("hw:cpu_realtime_mask", realtimeMaskPattern),
		vBool("hw:hide_hypervisor_id"),
		// The enums keep Nova's order of values: the 400 lists them in it.
		vEnum(vocab.SpecCPUPolicy, vocab.CPUDedicated, vocab.CPUShared, vocab.CPUMixed),
		vEnum("hw:cpu_thread_policy", "prefer", "isolate", "require"),
		vEnum("hw:emulator_threads_policy", "isolate", "share"),
		vPattern("hw:cpu_dedicated_mask", cpuMaskPattern),
		vPattern("hw:mem_page_size", pageSizePattern),
		vBool("hw:locked_memory"),
		vInt(vocab.SpecNUMANodes, one, nil),
		vEnum(vocab.SpecPCINUMAPolicy, vocab.PolicyRequired, vocab.PolicyPreferred, vocab.PolicyLegacy, vocab.PolicySocket),
		vInt("hw:cpu_sockets", one, nil),
		vInt("hw:cpu_cores", one, nil),
		vInt("hw:cpu_threads", one, nil),
		vInt("hw:cpu_max_sockets", one, nil),
		vInt("hw:cpu_max_cores", one, nil),
		vInt("hw:cpu_max_threads", one, nil),
		vBool("hw:boot_menu"),
		vBool("hw:vif_multiqueue_enabled"),
		vBool("hw:mem_encryption"),
		vEnum("hw:mem_encryption_model", "amd-sev", "amd-sev-es", "amd-sev-snp"),
		vPattern("hw:pmem", `([a-zA-Z0-9_]+(,)?)+`),
		vBool("hw:pmu"),
		vInt("hw:serial_port_count", zero, nil),
		vEnum("hw:tpm_model", "tpm-tis", "tpm-crb"),
		vEnum("hw:tpm_version", "1.2", "2.0"),
		vEnum("hw:tpm_secret_security", "user", "host", "deployment"),
		vEnum("hw:watchdog_action", "none", "pause", "poweroff", "reset", "disabled"),
		vEnum("hw:viommu_model", "intel", "smmuv3", "virtio", "auto"),
		vBool("hw:virtio_packed_ring"),
		vEnum("hw:sound_model", "sb16", "es1370", "pcspk", "ac97", "ich6", "ich9", "usb", "virtio"),
		vEnum("hw:usb_model", "none", "nec-xhci", "qemu-xhci"),
		vInt("hw:redirected_usb_ports", zero, i64(15)),
		vBool("hw:ephemeral_encryption"),
		vEnum("hw:ephemeral_encryption_format", "plain", "luks", "luksv2"),
		// hw_rng, hw_video
		vBool("hw_rng:allowed"),
		vInt("hw_rng:rate_bytes", zero, nil),
		vInt("hw_rng:rate_period", zero, nil),
		vInt("hw_video:ram_max_mb", zero, nil),
		// pci_passthrough, os, accel, vmware
		vPattern(vocab.SpecPCIAlias, aliasPattern),
		vEnum("os:secure_boot", "disabled", "required"),
		vStr("accel:device_profile"),
		vStr("vmware:hw_version"),
		vStr("vmware:storage_policy"),
		// quota (libvirt and VMware)
		vInt("quota:cpu_shares", zero, nil),
		vInt("quota:cpu_period", zero, nil),
		vInt("quota:cpu_quota", nil, nil),
	}
	for _, k := range []string{"cpu", "memory", "disk_io", "vif"} {
		list = append(list, vInt("quota:"+k+"_limit", zero, nil), vInt("quota:"+k+"_reservation", zero, nil),
			vEnum("quota:"+k+"_shares_level", "custom", "high", "normal", "low"), vInt("quota:"+k+"_shares_share", zero, nil))
	}
	for _, stat := range []string{"read", "write", "total"} {
		for _, metric := range []string{"bytes", "iops"} {
			list = append(list, vInt("quota:disk_"+stat+"_"+metric+"_sec", zero, nil))
		}
	}
	for _, stat := range []string{"inbound", "outbound"} {
		for _, metric := range []string{"average", "peak", "burst"} {
			list = append(list, vInt("quota:vif_"+stat+"_"+metric, zero, nil))
		}
	}
	for _, c := range []string{"id", "uuid", "service_id", "host", "vcpus", "memory_mb", "local_gb",
		"vcpus_used", "memory_mb_used", "local_gb_used", "hypervisor_type", "hypervisor_version",
		"hypervisor_hostname", "free_ram_mb", "free_disk_gb", "current_workload", "running_vms",
		"disk_available_least", "host_ip", "mapped", "cpu_allocation_ratio", "ram_allocation_ratio",
		"disk_allocation_ratio", "total_usable_ram_mb", "total_usable_disk_gb", "disk_mb_used",
		"free_disk_mb", "vcpus_total", "num_instances", "num_io_ops", "failed_builds", "aggregates",
		"cell_uuid", "updated"} {
		list = append(list, vStr("capabilities:"+c))
	}
	byName := make(map[string]validator, len(list))
	for _, v := range list {
		byName[v.name] = v
	}

	var params []validator
	params = append(params,
		withParams(vPattern("hw:numa_cpus.{num}", cpuMaskPattern), map[string]string{"num": `\d+`}),
		withParams(vInt("hw:numa_mem.{num}", one, nil), map[string]string{"num": `\d+`}),
		withParams(vStr("aggregate_instance_extra_specs:{key}"), map[string]string{"key": `.+`}),
		withParams(vInt("resources{group}:{resource}", nil, nil), map[string]string{"group": groupPattern, "resource": `[A-Z0-9_]+`}),
		withParams(vEnum("trait{group}:{trait}", "required", "forbidden"), map[string]string{"group": groupPattern, "trait": `[A-Z0-9_]+`}),
	)
	for _, c := range []string{"cpu_info", "metrics", "stats", "numa_topology", "supported_hv_specs",
		"pci_device_pools", "nodename", "pci_stats", "supported_instances", "limits", "instances"} {
		params = append(params, withParams(vStr("capabilities:"+c+"{filter}"), map[string]string{"filter": capabilityFilterPatt}))
	}
	for _, ns := range []string{"hw", "hw_rng", "hw_video", "pci_passthrough", "os", "accel", "vmware", "quota",
		"capabilities", "aggregate_instance_extra_specs", "resources" + groupPattern, "trait" + groupPattern} {
		namespaces = append(namespaces, pyPattern(ns))
	}
	return byName, params
}

// ValidateExtraSpec validates one flavor extra spec as nova-api does from microversion 2.86
// (nova/api/validation/extra_specs/validators.py validate): a known key's value is checked, an
// unknown key in a known namespace is rejected, anything else is accepted. Errors are
// *ValidationError carrying Nova's exact message.
func ValidateExtraSpec(key, value string) error {
	if v, ok := validators[key]; ok {
		return v.validate(value)
	}
	for _, v := range paramValidators {
		if v.nameRe.MatchString(key) {
			return v.validate(value)
		}
	}
	ns, _, found := strings.Cut(key, ":")
	if !found {
		return nil
	}
	for _, re := range namespaces {
		if re.MatchString(ns) {
			return invalid("Validation failed; extra spec '%s' does not appear to be a valid extra spec.", key)
		}
	}
	return nil
}

// ValidateExtraSpecs validates every key of a POST body, in sorted order so the first error
// reported does not depend on map iteration.
func ValidateExtraSpecs(specs map[string]string) error {
	keys := make([]string, 0, len(specs))
	for k := range specs {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, k := range keys {
		if err := ValidateExtraSpec(k, specs[k]); err != nil {
			return err
		}
	}
	return nil
}

func (v validator) validate(value string) error {
	switch v.kind {
	case kindInt:
		n, ok := pyInt(value)
		if !ok {
			return invalid("Validation failed; '%s' is not a valid integer value.", value)
		}
		if v.max != nil && n.Cmp(big.NewInt(*v.max)) > 0 {
			return invalid("Validation failed; '%s' is greater than the max value of '%d'.", n.String(), *v.max)
		}
		if v.min != nil && n.Cmp(big.NewInt(*v.min)) < 0 {
			return invalid("Validation failed; '%s' is less than the min value of '%d'.", n.String(), *v.min)
		}
	case kindBool:
		if _, ok := pyBool(value); !ok {
			return invalid("Validation failed; '%s' is not a valid boolean-like value.", value)
		}
	default:
		if v.re != nil {
			if !v.re.MatchString(value) {
				return invalid("Validation failed; '%s' is not of the format '%s'.", value, v.pattern)
			}
		} else if v.enum != nil {
			for _, e := range v.enum {
				if e == value {
					return nil
				}
			}
			return invalid("Validation failed; '%s' is not one of: %s.", value, strings.Join(v.enum, ", "))
		}
	}
	return nil
}

// pyBool is oslo strutils.bool_from_string(value, strict=True).
func pyBool(s string) (bool, bool) {
	switch strings.ToLower(pyStrip(s)) {
	case "1", "t", "true", "on", "y", "yes":
		return true, true
	case "0", "f", "false", "off", "n", "no":
		return false, true
	}
	return false, false
}
