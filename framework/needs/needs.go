// Package needs says what a spec needs of the lab — devices of an alias on one host, and a host
// whose topology makes the question worth asking — and, when no host of the lab has it, why, in
// the words the spec skips with. The specs (framework.Framework.HostFor, RequireDevices) and
// `hwcert inventory` ask the same Need, so the inventory's "cannot run here because" is the skip
// reason of the spec itself.
package needs

import (
	"fmt"

	"github.com/hwcert/hwcert/config/vocab"
	"github.com/hwcert/hwcert/framework/hostlock"
	"github.com/hwcert/hwcert/framework/inventory"
)

// Need is what one spec asks of a host.
type Need struct {
	Alias string
	// Devices is how many devices of Alias one host must have.
	Devices int
	// Can completes "no host of the lab can ...", the skip reason when no host meets Host.
	Can string
	// Host picks the hosts that can serve the spec; nil means any host with Devices devices.
	Host func(h *inventory.Host) bool
	// Hold is what the spec holds on the host it gets (see package hostlock): by default the
	// Devices devices of Alias, and one dedicated guest's CPUs for the NUMA families.
	Hold hostlock.Want
}

// AllDevices is n holding every device of its alias on the host, not only those its guest
// takes: for a spec that must know every one was free (preferred is held to a local device), or
// that expects a refusal, which must not come from a device another spec took.
func (n Need) AllDevices() Need {
	n.Hold.Devices = map[string]int{n.Alias: hostlock.AllDevices}
	return n
}

// dedicated is n with room held for one dedicated guest.
func (n Need) dedicated() Need {
	n.Hold.CPUs = 1
	return n
}

// DevicesReason is why no host of the lab has count devices of the alias, "" when one has.
func DevicesReason(inv *inventory.Inventory, alias string, count int) string {
	if len(inv.HostsWhere(inventory.HasDevices(alias, count))) > 0 {
		return ""
	}
	if inv.Count(alias) == 0 {
		return fmt.Sprintf("lab has no device for alias %s", alias)
	}
	return fmt.Sprintf("no host of the lab has %d devices for alias %s (at most %d on one host)", count, alias, inv.MaxOnHost(alias))
}

// NoHostReason is the skip reason of a spec for which no host can do what can says.
func NoHostReason(can string) string { return "no host of the lab can " + can }

// Hosts are the hosts that meet n, in name order; when there is none, reason says why.
func (n Need) Hosts(inv *inventory.Inventory) (hosts []string, reason string) {
	if r := DevicesReason(inv, n.Alias, n.Devices); r != "" {
		return nil, r
	}
	pred := n.Host
	if pred == nil {
		pred = inventory.HasDevices(n.Alias, n.Devices)
	}
	if hosts = inv.HostsWhere(pred); len(hosts) == 0 {
		return nil, NoHostReason(n.Can)
	}
	return hosts, ""
}

// Devices is count devices of the alias on one host.
func Devices(alias string, count int) Need {
	return Need{Alias: alias, Devices: count, Can: fmt.Sprintf("give %d × %s", count, alias), Hold: holdDevices(alias, count)}
}

func holdDevices(alias string, count int) hostlock.Want {
	return hostlock.Want{Devices: map[string]int{alias: count}}
}

// Policy is a one-node dedicated guest with one device under the policy: required and socket
// need a device with NUMA information, the others any device. Under preferred it holds every
// device of the alias, so a remote one is wrong whenever a local one exists.
func Policy(alias, policy string) Need {
	pred := inventory.HasDevices(alias, 1)
	if policy == vocab.PolicyRequired || policy == vocab.PolicySocket {
		pred = inventory.HasLocalDevices(alias, 1)
	}
	n := Need{Alias: alias, Devices: 1, Can: fmt.Sprintf("give a %s device under %s", alias, policy), Host: pred, Hold: holdDevices(alias, 1)}.dedicated()
	if policy == vocab.PolicyPreferred {
		n = n.AllDevices()
	}
	return n
}

// TwoNodes is a host with devices of the alias on two NUMA nodes, so a wrong-node device is free.
func TwoNodes(alias string) Need {
	return Need{Alias: alias, Devices: 1, Can: fmt.Sprintf("offer %s devices on two NUMA nodes", alias), Host: inventory.HasDevicesOnNodes(alias, 2),
		Hold: holdDevices(alias, 1)}.dedicated()
}

// TwoNodeGuest is a two-node guest with devices local to it: one device upstream, one per guest
// node under the StarlingX per-guest-node reading.
func TwoNodeGuest(alias, reading string) Need {
	count := 1
	pred := inventory.All(inventory.HasNodes(2), inventory.HasLocalDevices(alias, 1))
	if reading == vocab.AffinityPerGuestNode {
		count = 2
		pred = inventory.All(pred, inventory.HasDevicesOnNodes(alias, 2))
	}
	return Need{Alias: alias, Devices: count, Can: fmt.Sprintf("host a two-node guest with %d × %s", count, alias), Host: pred,
		Hold: holdDevices(alias, count)}.dedicated()
}

// NoNUMAOnly is a host whose devices of the alias all lack NUMA information.
func NoNUMAOnly(alias string) Need {
	return Need{Alias: alias, Devices: 1, Can: fmt.Sprintf("offer %s devices without NUMA information only", alias), Host: inventory.OnlyNoNUMADevices(alias),
		Hold: holdDevices(alias, 1)}.dedicated()
}

// OneOfTwoNodes is a host with two NUMA nodes whose devices of the alias, all with NUMA
// information, sit on one of them: there the two readings of PCI NUMA affinity disagree.
func OneOfTwoNodes(alias string) Need {
	return Need{Alias: alias, Devices: 1, Can: fmt.Sprintf("hold %s devices on one of two NUMA nodes only", alias),
		Host: func(h *inventory.Host) bool {
			return len(h.Nodes) >= 2 && len(h.NodesWith(alias, 1)) == 1 && h.CountWithNUMA(alias) == h.Count(alias)
		}, Hold: holdDevices(alias, 1)}.dedicated()
}

// ReadingReason is why a spec written for one reading of PCI NUMA affinity skips on a lab
// expected to follow another, "" when they agree.
func ReadingReason(expected, reading string) string {
	if expected == reading {
		return ""
	}
	return fmt.Sprintf("the lab is expected to follow the %s reading (config expect.pci_numa_affinity), not %s", expected, reading)
}

// Family is a group of specs for one alias and what they need.
type Family struct {
	Name string
	Need Need
}

// Families are the spec families of the passthrough, numa and negative suites for one supported
// alias on a lab expected to follow reading, in suite order. Keep it in step with the suites: each
// entry is the Need the specs of that family ask.
func Families(alias, reading string) []Family {
	out := []Family{
		{"passthrough: one device", Devices(alias, 1)},
		{"passthrough: several devices in one guest, filling a host", Devices(alias, 2)},
	}
	for _, p := range vocab.Policies {
		out = append(out, Family{"numa: " + p + ", one-node guest", Policy(alias, p)})
	}
	return append(out,
		Family{"numa: strict policy with a wrong-node device free, dedicated CPUs", TwoNodes(alias)},
		Family{"numa: two-node guest", TwoNodeGuest(alias, reading)},
		Family{"numa: device without NUMA information", NoNUMAOnly(alias)},
		Family{"numa: the readings of required (" + reading + ")", OneOfTwoNodes(alias)},
		Family{"negative: more devices than any host has", Devices(alias, 1)},
	)
}
