package cloud

import (
	"slices"

	"github.com/hwcert/hwcert/mock/libvirtd"
)

// hostDomains is one host's view of the cloud, for that host's fake libvirtd.
type hostDomains struct {
	c    *Cloud
	host string
}

// DomainSource returns the domains of one host: a domain exists from the moment its server has
// landed until the server is deleted, with the XML rendered when it landed; it is running unless
// the server is stopped (SHUTOFF), when libvirt keeps it defined and shut off.
func (c *Cloud) DomainSource(host string) libvirtd.DomainSource {
	return hostDomains{c: c, host: host}
}

// Domains implements libvirtd.DomainSource.
func (h hostDomains) Domains() []libvirtd.Domain {
	h.c.mu.Lock()
	defer h.c.mu.Unlock()
	var out []libvirtd.Domain
	for _, s := range h.c.servers {
		if s.Host != h.host {
			continue
		}
		out = append(out, libvirtd.Domain{
			ID:        s.InstanceID,
			Name:      s.InstanceName(),
			UUID:      s.ID,
			Active:    s.PowerState == PowerRunning,
			VCPUs:     s.Flavor.VCPUs,
			MemoryKiB: uint64(s.Flavor.RAMMB) * 1024,
			XML:       s.XML,
		})
	}
	// libvirt lists running domains by id.
	slices.SortFunc(out, func(a, b libvirtd.Domain) int { return a.ID - b.ID })
	return out
}

// HostUsage is what the hypervisor API reports of a host, from the servers on it.
type HostUsage struct {
	VCPUsUsed    int
	MemoryMBUsed int
	DiskGBUsed   int
	RunningVMs   int
}

// Usage sums the flavors of the servers on host, as Nova's resource tracker does: a stopped
// server keeps its resources.
func (c *Cloud) Usage(host string) HostUsage {
	c.mu.Lock()
	defer c.mu.Unlock()
	var u HostUsage
	for _, s := range c.servers {
		if s.Host != host {
			continue
		}
		u.VCPUsUsed += s.Flavor.VCPUs
		u.MemoryMBUsed += s.Flavor.RAMMB
		u.DiskGBUsed += s.Flavor.DiskGB + s.Flavor.EphemeralGB
		u.RunningVMs++
	}
	return u
}
