// Package config is the harness configuration: which cloud to test, how to reach each compute
// host's libvirtd, what to boot, how long to wait, and what the lab is expected to do where
// OpenStack versions differ. One YAML file, validated at load with errors that name the field,
// the value and what was expected.
package config

import "time"

// Config is one harness configuration file (see config/examples/).
type Config struct {
	// Cloud is the clouds.yaml cloud name; empty means $OS_CLOUD.
	Cloud string `json:"cloud,omitempty"`
	// CloudsFile is the clouds.yaml to read; empty means the standard locations
	// ($OS_CLIENT_CONFIG_FILE, ./clouds.yaml, ~/.config/openstack/clouds.yaml, /etc/openstack/clouds.yaml).
	// A relative path is relative to the config file.
	CloudsFile string `json:"clouds_file,omitempty"`
	// ComputeMicroversion is sent on every compute request (at least 2.74; default 2.86).
	ComputeMicroversion string `json:"compute_microversion,omitempty"`
	// Hypervisors says how to reach libvirtd on each compute host.
	Hypervisors Hypervisors `json:"hypervisors"`
	// Image (name or id) and Network (name, id, or "none") to boot test servers with.
	Image   string `json:"image"`
	Network string `json:"network,omitempty"`
	// Flavor sizes of the test flavors.
	Flavor FlavorDefaults `json:"flavor,omitempty"`
	// Timeouts for waiting on the cloud.
	Timeouts Timeouts `json:"timeouts,omitempty"`
	// NamePrefix starts the name of every flavor and server the run creates (default "hwcert-");
	// cleanup sweeps only names with this prefix.
	NamePrefix string `json:"name_prefix,omitempty"`
	// DeviceCatalog is the device catalog file or directory (default fixtures/devices).
	// A relative path is relative to the config file.
	DeviceCatalog string `json:"device_catalog,omitempty"`
	// Expect is what the lab is expected to do where OpenStack versions differ.
	Expect Expectations `json:"expect,omitempty"`
	// Nova mirrors what the verdict and the inventory need from the lab's nova.conf and cannot
	// read from libvirt.
	Nova NovaConf `json:"nova,omitempty"`
}

// NovaConf mirrors parts of the lab's nova.conf.
type NovaConf struct {
	// DeviceSpec mirrors [pci] device_spec: the inventory marks the devices Nova exposes, and
	// specs aim only at those. Empty means every device libvirt lists is taken as exposed.
	DeviceSpec []DeviceSpec `json:"device_spec,omitempty"`
	// CPUDedicatedSet mirrors [compute] cpu_dedicated_set per compute host, as a cpuset
	// ("2-7,10-15"); the verdict holds dedicated guests on a listed host to it.
	CPUDedicatedSet map[string]string `json:"cpu_dedicated_set,omitempty"`
}

// Hypervisors maps compute hosts to libvirt URIs.
type Hypervisors struct {
	// URITemplate builds a URI from the host name, e.g. "qemu+ssh://sysadmin@{host}/system".
	URITemplate string `json:"uri_template,omitempty"`
	// Hosts gives an explicit URI per host (OS-EXT-SRV-ATTR:host); it wins over the template.
	Hosts map[string]string `json:"hosts,omitempty"`
}

// FlavorDefaults are the sizes of the flavors the suites create.
type FlavorDefaults struct {
	VCPUs  int `json:"vcpus,omitempty"`   // default 2
	RAMMB  int `json:"ram_mb,omitempty"`  // default 1024
	DiskGB int `json:"disk_gb,omitempty"` // default 1
}

// Timeouts bound every wait.
type Timeouts struct {
	Boot   Duration `json:"boot,omitempty"`   // server to ACTIVE or ERROR (default 5m)
	Delete Duration `json:"delete,omitempty"` // server gone after delete (default 2m)
	Poll   Duration `json:"poll,omitempty"`   // polling interval (default 2s; the mock config uses less)
	// SweepAfter: at start a run deletes servers and flavors with the name prefix whose run
	// started longer ago than this (default 3h) — leftovers of killed runs — and leaves younger
	// ones alone, since they may belong to a concurrent run with the same prefix.
	SweepAfter Duration `json:"sweep_after,omitempty"`
}

// Expectations are lab behaviours that differ between OpenStack versions or readings.
type Expectations struct {
	// PCINUMAAffinity is "upstream" (device local to one of the guest's host nodes; default) or
	// "per-guest-node" (the StarlingX document: a local device for each guest NUMA node).
	PCINUMAAffinity string `json:"pci_numa_affinity,omitempty"`
}

// Duration is a time.Duration read from a Go duration string ("90s").
type Duration struct{ time.Duration }
