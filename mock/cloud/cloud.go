// Package cloud is the state of the mock's Nova and Glance: flavors with their extra specs,
// images, and servers moving through their lifecycle (BUILD, then ACTIVE on the host the
// scheduler chose or ERROR with Nova's fault). It knows nothing of HTTP: package mock/openstack
// serves it, and each host's fake libvirtd reads its domains from it (DomainSource).
package cloud

import (
	"crypto/rand"
	"errors"
	"fmt"
	"slices"
	"sync"
	"time"

	"github.com/hwcert/hwcert/mock/lab"
	"github.com/hwcert/hwcert/mock/novaspec"
	"github.com/hwcert/hwcert/mock/scheduler"
)

// Server statuses, vm_states and power states as Nova reports them.
const (
	StatusBuild  = "BUILD"
	StatusActive = "ACTIVE"
	StatusError  = "ERROR"

	PowerNoState = 0
	PowerRunning = 1
)

// noValidHost is the fault message of a server no host could take
// (nova/scheduler/manager.py, NoValidHost with "There are not enough hosts available.").
const noValidHost = "No valid host was found. There are not enough hosts available."

// Scheduler places servers and frees their claims; *scheduler.Scheduler implements it.
type Scheduler interface {
	Schedule(req scheduler.Request) (*scheduler.Placement, error)
	Release(serverID string)
}

// DomainInfo is what a domain renderer needs to know of a server besides its placement.
type DomainInfo struct {
	InstanceID   int
	UUID         string
	Name         string // the server's display name
	InstanceName string // instance-%08x, the libvirt domain name
	VCPUs        int
	MemoryMB     int
	FlavorName   string
}

// DomainXMLFunc renders the libvirt domain XML of a server placed on a host.
type DomainXMLFunc func(inv *lab.HostInventory, d DomainInfo, p *scheduler.Placement) (string, error)

// Options configure a Cloud.
type Options struct {
	Lab *lab.Lab
	// Inventories are the expanded hosts of Lab (lab.Lab.Inventories), keyed by host name.
	Inventories map[string]*lab.HostInventory
	Scheduler   Scheduler
	// DomainXML renders the domain XML once, when a server turns ACTIVE. Nil leaves XML empty.
	DomainXML DomainXMLFunc
	// BootLatency is how long a server stays in BUILD (default: the lab's boot_latency).
	BootLatency *time.Duration
	// BootFault, when set, is asked once per boot whether it sticks in BUILD for good, or
	// fails in spawn with a fault (after a host was found): the plumbing faults of a lab.
	BootFault func(serverID string) (stuck bool, fault string)
}

// Cloud is the mock's compute and image state. It is safe for concurrent use.
type Cloud struct {
	lab         *lab.Lab
	inventories map[string]*lab.HostInventory
	sched       Scheduler
	domainXML   DomainXMLFunc
	latency     time.Duration
	bootFault   func(serverID string) (stuck bool, fault string)

	mu         sync.Mutex
	closed     bool
	flavors    map[string]*Flavor
	servers    map[string]*Server
	timers     map[string]*time.Timer
	nextID     int
	wg         sync.WaitGroup
	serverSeq  int // creation order, for Nova's default "created_at desc" listing
	flavorSeq  int
	lastChange time.Time
	networks   []Network
	ports      []Port
	actions    map[string][]*Action // server id -> its actions, oldest first
	started    time.Time
}

// New builds an empty cloud over a validated lab.
func New(opts Options) (*Cloud, error) {
	if opts.Lab == nil {
		return nil, errors.New("cloud: Options.Lab is nil")
	}
	if opts.Scheduler == nil {
		return nil, errors.New("cloud: Options.Scheduler is nil")
	}
	invs := opts.Inventories
	if invs == nil {
		var err error
		if invs, err = opts.Lab.Inventories(); err != nil {
			return nil, fmt.Errorf("cloud: %w", err)
		}
	}
	latency := opts.Lab.BootLatency.Duration
	if opts.BootLatency != nil {
		latency = *opts.BootLatency
	}
	if latency < 0 {
		return nil, fmt.Errorf("cloud: boot latency %v: must not be negative", latency)
	}
	return &Cloud{
		lab:         opts.Lab,
		inventories: invs,
		sched:       opts.Scheduler,
		domainXML:   opts.DomainXML,
		latency:     latency,
		bootFault:   opts.BootFault,
		flavors:     map[string]*Flavor{},
		servers:     map[string]*Server{},
		timers:      map[string]*time.Timer{},
		nextID:      1,
		networks:    DefaultNetworks(opts.Lab.Name),
		actions:     map[string][]*Action{},
		started:     time.Now(),
	}, nil
}

// Started is when the cloud came up: every host's boot time, for the hypervisor uptime.
func (c *Cloud) Started() time.Time { return c.started }

// Lab returns the lab the cloud simulates.
func (c *Cloud) Lab() *lab.Lab { return c.lab }

// Inventory returns the expanded host.
func (c *Cloud) Inventory(host string) (*lab.HostInventory, bool) {
	inv, ok := c.inventories[host]
	return inv, ok
}

// Close stops pending boots and waits for a boot in progress to finish. Servers stay as they are.
func (c *Cloud) Close() error {
	c.mu.Lock()
	c.closed = true
	for id, t := range c.timers {
		if t.Stop() {
			c.wg.Done()
		}
		delete(c.timers, id)
	}
	c.mu.Unlock()
	c.wg.Wait()
	return nil
}

// newUUID returns a random RFC 4122 version 4 UUID.
func newUUID() string {
	var b [16]byte
	_, _ = rand.Read(b[:]) // crypto/rand.Read never fails (Go ≥ 1.24)
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:16])
}

// Images returns the lab's Glance images.
func (c *Cloud) Images() []lab.Image { return slices.Clone(c.lab.Images) }

// Image returns the image with the given id.
func (c *Cloud) Image(id string) (lab.Image, bool) {
	for _, im := range c.lab.Images {
		if im.ID == id {
			return im, true
		}
	}
	return lab.Image{}, false
}

// HostNames returns the compute hosts in lab order.
func (c *Cloud) HostNames() []string {
	out := make([]string, len(c.lab.Hosts))
	for i, h := range c.lab.Hosts {
		out[i] = h.Name
	}
	return out
}

func (c *Cloud) host(name string) (*lab.Host, bool) {
	for i := range c.lab.Hosts {
		if c.lab.Hosts[i].Name == name {
			return &c.lab.Hosts[i], true
		}
	}
	return nil, false
}

// AvailabilityZones returns the zones of the lab's hosts, in first-seen order.
func (c *Cloud) AvailabilityZones() []string {
	var out []string
	for _, h := range c.lab.Hosts {
		if !slices.Contains(out, h.AvailabilityZone) {
			out = append(out, h.AvailabilityZone)
		}
	}
	return out
}

// pciRequestsError maps novaspec's alias errors to Nova's API answers: an undefined alias is a
// 400 (PciRequestAliasNotDefined is in INVALID_FLAVOR_IMAGE_EXCEPTIONS); a malformed value is a
// bare ValueError that nothing catches, so Nova answers 500.
func pciRequestsError(err error) error {
	var notDefined *novaspec.AliasNotDefinedError
	if errors.As(err, &notDefined) {
		return &Error{Kind: BadRequest, Message: notDefined.Error(), Err: err}
	}
	var badPolicy *novaspec.InvalidPolicyError
	if errors.As(err, &badPolicy) {
		return &Error{Kind: BadRequest, Message: badPolicy.Error(), Err: err}
	}
	var topo *novaspec.TopologyError
	if errors.As(err, &topo) && topo.Code == 400 {
		return &Error{Kind: BadRequest, Message: topo.Error(), Err: err}
	}
	return &Error{Kind: Internal, Message: err.Error(), Err: err}
}
