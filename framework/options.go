package framework

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/hwcert/hwcert/config/vocab"
)

// AliasCount is one element of pci_passthrough:alias.
type AliasCount struct {
	Alias string
	Count int
}

// flavorOptions collect what a flavor is built from; the options hold no logic beyond recording.
type flavorOptions struct {
	vcpus, ramMB, diskGB int
	aliases              []AliasCount
	aliasSpec            *string // verbatim pci_passthrough:alias, when set
	policy               string
	numaNodes            int
	dedicated            bool
	extra                map[string]string
	microversion         string
}

// FlavorOption configures CreateFlavor.
type FlavorOption func(*flavorOptions)

// WithAlias asks for count devices of an alias; repeat it for a multi-alias flavor
// ("gpu:1,qat-c62x-vf:2").
func WithAlias(alias string, count int) FlavorOption {
	return func(o *flavorOptions) { o.aliases = append(o.aliases, AliasCount{alias, count}) }
}

// WithAliases is WithAlias for several pairs.
func WithAliases(pairs ...AliasCount) FlavorOption {
	return func(o *flavorOptions) { o.aliases = append(o.aliases, pairs...) }
}

// WithAliasSpec sets pci_passthrough:alias verbatim, e.g. the StarlingX document's
// "gpu:1, qat-c62x-vf:2" (with the space) or a malformed value a negative spec sends.
func WithAliasSpec(spec string) FlavorOption {
	return func(o *flavorOptions) { o.aliasSpec = &spec }
}

// WithPCINUMAPolicy sets hw:pci_numa_affinity_policy (required, legacy, preferred, socket).
func WithPCINUMAPolicy(policy string) FlavorOption {
	return func(o *flavorOptions) { o.policy = policy }
}

// WithNUMANodes sets hw:numa_nodes.
func WithNUMANodes(n int) FlavorOption { return func(o *flavorOptions) { o.numaNodes = n } }

// WithDedicatedCPUs sets hw:cpu_policy=dedicated (every vCPU pinned; implies a NUMA topology).
func WithDedicatedCPUs() FlavorOption { return func(o *flavorOptions) { o.dedicated = true } }

// WithVCPUs, WithRAM (MB) and WithDisk (GB) size the flavor (defaults from the config).
func WithVCPUs(n int) FlavorOption { return func(o *flavorOptions) { o.vcpus = n } }
func WithRAM(mb int) FlavorOption  { return func(o *flavorOptions) { o.ramMB = mb } }
func WithDisk(gb int) FlavorOption { return func(o *flavorOptions) { o.diskGB = gb } }

// WithExtraSpec sets any other extra spec.
func WithExtraSpec(key, value string) FlavorOption {
	return func(o *flavorOptions) {
		if o.extra == nil {
			o.extra = map[string]string{}
		}
		o.extra[key] = value
	}
}

// WithMicroversion sets the compute microversion of the flavor requests (Nova validates extra
// specs only at 2.86 and later).
func WithMicroversion(mv string) FlavorOption { return func(o *flavorOptions) { o.microversion = mv } }

// aliasValue is the pci_passthrough:alias value, "" for none.
func (o *flavorOptions) aliasValue() string {
	if o.aliasSpec != nil {
		return *o.aliasSpec
	}
	parts := make([]string, len(o.aliases))
	for i, a := range o.aliases {
		parts[i] = fmt.Sprintf("%s:%d", a.Alias, a.Count)
	}
	return strings.Join(parts, ",")
}

// extraSpecs are every extra spec the options set.
func (o *flavorOptions) extraSpecs() map[string]string {
	specs := map[string]string{}
	if v := o.aliasValue(); v != "" || o.aliasSpec != nil {
		specs[vocab.SpecPCIAlias] = v
	}
	if o.policy != "" {
		specs[vocab.SpecPCINUMAPolicy] = o.policy
	}
	if o.numaNodes > 0 {
		specs[vocab.SpecNUMANodes] = strconv.Itoa(o.numaNodes)
	}
	if o.dedicated {
		specs[vocab.SpecCPUPolicy] = vocab.CPUDedicated
	}
	for k, v := range o.extra {
		specs[k] = v
	}
	return specs
}

// ParseAliasSpec reads pci_passthrough:alias as Nova does: split on ',', then ':', names and
// counts trimmed. It is used to know what a verbatim value asks for; a value Nova could not
// parse gives an error.
func ParseAliasSpec(v string) ([]AliasCount, error) {
	var out []AliasCount
	for _, part := range strings.Split(v, ",") {
		name, count, ok := strings.Cut(part, ":")
		if !ok || strings.Contains(count, ":") {
			return nil, fmt.Errorf("pci_passthrough:alias %q: element %q is not NAME:COUNT", v, part)
		}
		n, err := strconv.Atoi(strings.TrimSpace(count))
		if err != nil || n < 0 {
			return nil, fmt.Errorf("pci_passthrough:alias %q: count %q of %q is not a number", v, count, strings.TrimSpace(name))
		}
		out = append(out, AliasCount{Alias: strings.TrimSpace(name), Count: n})
	}
	return out, nil
}

// bootOptions say where to boot.
type bootOptions struct {
	host, az, name string
}

// BootOption configures Boot.
type BootOption func(*bootOptions)

// WithHost asks for a compute host (microversion 2.74 `host`; Nova still runs its filters there).
func WithHost(host string) BootOption { return func(o *bootOptions) { o.host = host } }

// WithAZ sets the availability zone ("zone" or "zone:host").
func WithAZ(az string) BootOption { return func(o *bootOptions) { o.az = az } }

// WithServerName overrides the generated server name (it keeps the run prefix).
func WithServerName(suffix string) BootOption { return func(o *bootOptions) { o.name = suffix } }
