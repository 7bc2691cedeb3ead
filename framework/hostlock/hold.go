package hostlock

import (
	"fmt"
	"maps"
	"slices"
	"strconv"

	"github.com/hwcert/hwcert/framework/openstack"
)

// AllDevices, as a count in Want.Devices, holds every device of the alias on the host: the spec
// then knows every one of them was free (preferred is held to a local one), and that a refusal
// was not for want of a free device.
const AllDevices = -1

// Want is what a spec holds on the host it boots on. A spec holds what its servers may take —
// devices of an alias, dedicated pCPUs — so that no spec of this run or of another finds them
// taken; it holds the whole host where the scenario needs the host to itself (filling it). What
// no other server can take (shared CPUs, a host's missing device) needs no hold.
type Want struct {
	// Devices is how many devices of each alias the spec's servers take (AllDevices: all).
	Devices map[string]int
	// CPUs is how many dedicated guests the spec has on the host at once.
	CPUs int
	// Whole holds every device and CPU slot of the host.
	Whole bool
}

// Capacity is what one host offers to hold.
type Capacity struct {
	// Devices are the addresses of the host's exposed devices per alias.
	Devices map[string][]string
	// CPUs is how many dedicated guests fit at once on any one of the host's NUMA nodes (at
	// least 1): holding one slot per dedicated guest then leaves room for each wherever the
	// scheduler puts it.
	CPUs int
}

// Group is a set of leases of which a claim takes Count (all when Count is len(Names)).
type Group struct {
	Names []string
	Count int
}

// Claim is what a spec takes on one candidate host: every group, or nothing.
type Claim struct {
	Host   string
	Groups []Group
}

// pools maps each alias of the host to the pool its slots are leased from, and each pool to its
// slot count. Aliases that share a device on the host (a generic and a model alias) share a pool
// (named after the first of them) of as many slots as the alias of the pool with fewest devices
// has: k holders of the pool then take at most k devices, so every holder of an alias finds as
// many of its devices free as it holds slots.
func (c Capacity) pools() (poolOf map[string]string, slots map[string]int) {
	aliases := slices.Sorted(maps.Keys(c.Devices))
	poolOf, slots = map[string]string{}, map[string]int{}
	owner := map[string]string{} // device address → pool
	for _, a := range aliases {
		pool := a
		for _, addr := range c.Devices[a] {
			if p, ok := owner[addr]; ok && p < pool {
				pool = p
			}
		}
		// Merge every pool that shares a device with a into the chosen one.
		for _, addr := range c.Devices[a] {
			if p, ok := owner[addr]; ok && p != pool {
				for b, q := range poolOf {
					if q == p {
						poolOf[b] = pool
					}
				}
				for d, q := range owner {
					if q == p {
						owner[d] = pool
					}
				}
			}
			owner[addr] = pool
		}
		poolOf[a] = pool
	}
	for a, p := range poolOf {
		n := len(c.Devices[a])
		if cur, ok := slots[p]; !ok || n < cur {
			slots[p] = n
		}
	}
	return poolOf, slots
}

// LeaseName is the lease of one slot on a host: hwcert-lease-<host>-<pool>-<slot> for devices,
// hwcert-lease-<host>-cpu-<slot> for dedicated guests.
func LeaseName(host, pool string, slot int) string {
	return openstack.LeasePrefix + host + "-" + pool + "-" + strconv.Itoa(slot)
}

const cpuPool = "cpu"

// ClaimOn is what w takes on host, or why the host cannot give it.
func ClaimOn(host string, c Capacity, w Want) (Claim, error) {
	poolOf, slots := c.pools()
	slots[cpuPool] = max(c.CPUs, 1)
	want := map[string]int{}
	if w.Whole {
		maps.Copy(want, slots)
	} else {
		for _, a := range slices.Sorted(maps.Keys(w.Devices)) {
			n := w.Devices[a]
			p, ok := poolOf[a]
			if !ok || n == 0 {
				if n != 0 {
					return Claim{}, fmt.Errorf("host %s has no device of alias %s to hold", host, a)
				}
				continue
			}
			if n == AllDevices {
				n = slots[p]
			}
			want[p] += n
		}
		want[cpuPool] += w.CPUs
	}
	cl := Claim{Host: host}
	for _, p := range slices.Sorted(maps.Keys(want)) {
		n := want[p]
		if n == 0 {
			continue
		}
		if n > slots[p] {
			return Claim{}, fmt.Errorf("host %s offers %d slots of %s, the spec needs %d", host, slots[p], p, n)
		}
		g := Group{Count: n}
		for i := range slots[p] {
			g.Names = append(g.Names, LeaseName(host, p, i))
		}
		cl.Groups = append(cl.Groups, g)
	}
	return cl, nil
}
