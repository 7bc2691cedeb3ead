package cloud

import (
	"crypto/rand"
	"crypto/sha1"
	"fmt"
	"net/netip"
	"slices"
	"time"
)

// Network is a Neutron network with its one IPv4 subnet. The mock's Neutron is minimal: the
// networks are fixed (DefaultNetworks), and the only ports are those Nova creates for the
// servers it boots on them.
type Network struct {
	ID         string
	Name       string
	SubnetID   string
	SubnetName string
	CIDR       netip.Prefix
	Gateway    netip.Addr
	// SegmentationID is the provider segment (geneve VNI) an admin sees.
	SegmentationID int
	Created        time.Time
}

// Port is a Neutron port Nova created for a server on a network (device_owner compute:<zone>).
type Port struct {
	ID        string
	NetworkID string
	SubnetID  string
	MAC       string
	IP        netip.Addr
	DeviceID  string // the server id
	Zone      string // the zone part of device_owner
	Host      string // binding:host_id
	TenantID  string
	Created   time.Time
}

// NetworkRequest is one entry of POST /servers "networks": a network to put a new port on.
type NetworkRequest struct {
	UUID string
}

// DefaultNetworks are the networks of every mock lab: devstack's tenant network "private".
// Ids are derived from the lab name, so runs of one lab agree and configs can name them by id.
func DefaultNetworks(labName string) []Network {
	id := func(what string) string {
		sum := sha1.Sum([]byte("hwcert " + labName + " " + what))
		sum[6] = sum[6]&0x0f | 0x50
		sum[8] = sum[8]&0x3f | 0x80
		return fmt.Sprintf("%x-%x-%x-%x-%x", sum[0:4], sum[4:6], sum[6:8], sum[8:10], sum[10:16])
	}
	return []Network{{
		ID:             id("network private"),
		Name:           "private",
		SubnetID:       id("subnet private-subnet"),
		SubnetName:     "private-subnet",
		CIDR:           netip.MustParsePrefix("10.0.0.0/24"),
		Gateway:        netip.MustParseAddr("10.0.0.1"),
		SegmentationID: 1001,
		Created:        time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC),
	}}
}

// Networks returns the networks Neutron serves.
func (c *Cloud) Networks() []Network { return slices.Clone(c.networks) }

// Network returns the network with the given id.
func (c *Cloud) Network(id string) (Network, bool) {
	for _, n := range c.networks {
		if n.ID == id {
			return n, true
		}
	}
	return Network{}, false
}

// Ports returns every port, in creation order.
func (c *Cloud) Ports() []Port {
	c.mu.Lock()
	defer c.mu.Unlock()
	return slices.Clone(c.ports)
}

// checkNetworks is nova-api's validate_networks: every requested network must exist
// (NetworkNotFound is a 400 in the API).
func (c *Cloud) checkNetworks(reqs []NetworkRequest) error {
	for _, r := range reqs {
		if _, ok := c.Network(r.UUID); !ok {
			return errorf(BadRequest, "Network %s could not be found.", r.UUID)
		}
	}
	return nil
}

// allocatePorts creates the ports of a server that landed on its host, as nova-compute's
// allocate_for_instance does during the build. The caller holds c.mu.
func (c *Cloud) allocatePorts(s *Server, now time.Time) error {
	for _, r := range s.networks {
		n, ok := c.Network(r.UUID)
		if !ok {
			return fmt.Errorf("network %s disappeared", r.UUID)
		}
		ip, err := c.freeIP(n)
		if err != nil {
			return err
		}
		var mac [3]byte
		_, _ = rand.Read(mac[:]) // crypto/rand.Read never fails (Go ≥ 1.24)
		c.ports = append(c.ports, Port{
			ID:        newUUID(),
			NetworkID: n.ID,
			SubnetID:  n.SubnetID,
			MAC:       fmt.Sprintf("fa:16:3e:%02x:%02x:%02x", mac[0], mac[1], mac[2]),
			IP:        ip,
			DeviceID:  s.ID,
			Zone:      s.AvailabilityZone,
			Host:      s.Host,
			TenantID:  s.TenantID,
			Created:   now,
		})
	}
	return nil
}

// freeIP is the lowest address of the subnet after the gateway that no port holds.
func (c *Cloud) freeIP(n Network) (netip.Addr, error) {
	used := map[netip.Addr]bool{n.Gateway: true}
	for _, p := range c.ports {
		if p.NetworkID == n.ID {
			used[p.IP] = true
		}
	}
	for a := n.CIDR.Addr().Next(); n.CIDR.Contains(a); a = a.Next() {
		if !used[a] && n.CIDR.Contains(a.Next()) { // the last address is the broadcast
			return a, nil
		}
	}
	return netip.Addr{}, fmt.Errorf("no free address left in subnet %s (%s) of network %s", n.SubnetName, n.CIDR, n.Name)
}

// releasePorts deletes the ports of a server (deallocate_for_instance). The caller holds c.mu.
func (c *Cloud) releasePorts(serverID string) {
	c.ports = slices.DeleteFunc(c.ports, func(p Port) bool { return p.DeviceID == serverID })
}

// portsOf returns the ports of a server. The caller holds c.mu.
func (c *Cloud) portsOf(serverID string) []Port {
	var out []Port
	for _, p := range c.ports {
		if p.DeviceID == serverID {
			out = append(out, p)
		}
	}
	return out
}
