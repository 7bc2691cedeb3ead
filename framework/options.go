package framework

import (
	"fmt"
	"strconv"

	"github.com/hwcert/hwcert/config/vocab"
)

// flavorOptions are what a flavor is built from: its extra specs, written by the options as Nova
// will store them, and the microversion of the requests. Nothing else is recorded, so what the
// verdict expects can only come from the extra specs (see Flavor.Request).
type flavorOptions struct {
	specs        map[string]string
	microversion string
}

// FlavorOption configures CreateFlavor by writing extra specs.
type FlavorOption func(*flavorOptions)

// WithAlias asks for count devices of an alias; repeat it for a multi-alias flavor
// ("gpu:1,qat-c62x-vf:2").
func WithAlias(alias string, count int) FlavorOption {
	return func(o *flavorOptions) {
		v := fmt.Sprintf("%s:%d", alias, count)
		if prev := o.specs[vocab.SpecPCIAlias]; prev != "" {
			v = prev + "," + v
		}
		o.specs[vocab.SpecPCIAlias] = v
	}
}

// WithAliasSpec sets pci_passthrough:alias verbatim, e.g. the StarlingX document's
// "gpu:1, qat-c62x-vf:2" (with the space) or a malformed value a negative spec sends.
func WithAliasSpec(spec string) FlavorOption { return WithExtraSpec(vocab.SpecPCIAlias, spec) }

// WithPCINUMAPolicy sets hw:pci_numa_affinity_policy (required, legacy, preferred, socket).
func WithPCINUMAPolicy(policy string) FlavorOption {
	return WithExtraSpec(vocab.SpecPCINUMAPolicy, policy)
}

// WithNUMANodes sets hw:numa_nodes.
func WithNUMANodes(n int) FlavorOption { return WithExtraSpec(vocab.SpecNUMANodes, strconv.Itoa(n)) }

// WithDedicatedCPUs sets hw:cpu_policy=dedicated (every vCPU pinned; implies a NUMA topology).
func WithDedicatedCPUs() FlavorOption { return WithExtraSpec(vocab.SpecCPUPolicy, vocab.CPUDedicated) }

// WithExtraSpec sets any extra spec.
func WithExtraSpec(key, value string) FlavorOption {
	return func(o *flavorOptions) { o.specs[key] = value }
}

// WithMicroversion sets the compute microversion of the flavor requests (Nova validates extra
// specs only at 2.86 and later).
func WithMicroversion(mv string) FlavorOption { return func(o *flavorOptions) { o.microversion = mv } }

// bootOptions say where to boot.
type bootOptions struct {
	host string
}

// BootOption configures Boot.
type BootOption func(*bootOptions)

// WithHost asks for a compute host (microversion 2.74 `host`; Nova still runs its filters there).
func WithHost(host string) BootOption { return func(o *bootOptions) { o.host = host } }
