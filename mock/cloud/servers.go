package cloud

import (
	"errors"
	"fmt"
	"maps"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/hwcert/hwcert/mock/novaspec"
	"github.com/hwcert/hwcert/mock/scheduler"
)

// Server is one Nova instance as the API shows it.
type Server struct {
	ID         string
	InstanceID int // the cell database id; the domain is instance-%08x of it
	Name       string
	Status     string // BUILD, ACTIVE, ERROR
	VMState    string // building, active, error
	TaskState  string // "scheduling" while in BUILD, "" (null) otherwise
	PowerState int
	// Flavor is the copy of the flavor taken at create time (Nova's instance.flavor).
	Flavor  Flavor
	ImageID string
	// AvailabilityZone is the zone the server is in: the requested one until it lands,
	// then its host's zone. Empty while unknown.
	AvailabilityZone string
	Host             string // OS-EXT-SRV-ATTR:host, empty until ACTIVE
	Node             string // OS-EXT-SRV-ATTR:hypervisor_hostname
	Fault            *Fault
	Created          time.Time
	Updated          time.Time
	LaunchedAt       time.Time
	Metadata         map[string]string
	TenantID         string
	UserID           string
	// Placement is what the scheduler chose (nil until ACTIVE).
	Placement *scheduler.Placement
	// XML is the domain XML rendered when the server turned ACTIVE.
	XML string
	// Ports are the Neutron ports Nova created for the server once it landed.
	Ports    []Port
	networks []NetworkRequest
	seq      int
}

// InstanceName is the libvirt domain name, Nova's default instance_name_template.
func (s *Server) InstanceName() string { return fmt.Sprintf("instance-%08x", s.InstanceID) }

// Fault is a server fault as Nova records it.
type Fault struct {
	Code    int
	Message string
	Created time.Time
}

func (s *Server) clone() Server {
	out := *s
	out.Flavor = s.Flavor.clone()
	out.Metadata = maps.Clone(s.Metadata)
	out.Ports = slices.Clone(s.Ports)
	out.networks = slices.Clone(s.networks)
	if s.Fault != nil {
		f := *s.Fault
		out.Fault = &f
	}
	return out
}

// ServerRequest is a POST /servers body, already decoded and checked for shape by the API.
type ServerRequest struct {
	Name      string
	FlavorRef string
	ImageRef  string
	// AvailabilityZone may be "zone", "zone:host", "zone:host:node" or "zone::node" (admin forcing).
	AvailabilityZone string
	// Host and HypervisorHostname are the 2.74 requested destination.
	Host               string
	HypervisorHostname string
	Metadata           map[string]string
	TenantID, UserID   string
	// Networks are the networks to give the server a port on ("networks": [{"uuid": ...}]).
	Networks []NetworkRequest
}

// CreateServer checks a request synchronously as nova-api does (zone, destination, image,
// flavor, PCI aliases) and, when it passes, records the server in BUILD and schedules it after
// the boot latency. Errors are *Error with Nova's texts.
func (c *Cloud) CreateServer(req ServerRequest) (Server, error) {
	zone, forcedHost, forcedNode, err := parseAvailabilityZone(req.AvailabilityZone)
	if err != nil {
		return Server{}, err
	}
	if (req.Host != "" || req.HypervisorHostname != "") && (forcedHost != "" || forcedNode != "") {
		return Server{}, errorf(BadRequest, "One mechanism with host and/or hypervisor_hostname and another mechanism with zone:host:node are mutually exclusive.")
	}
	// A forced host overrides the zone when they disagree (bug #1934770); an unknown forced host
	// is not an API error in Nova: the scheduler finds no host and the server goes to ERROR.
	if forcedHost != "" {
		if h, ok := c.host(forcedHost); ok && h.AvailabilityZone != zone {
			zone = ""
		}
	} else if forcedNode != "" {
		zone = ""
	}
	if zone != "" && forcedHost == "" && !slices.Contains(c.AvailabilityZones(), zone) {
		return Server{}, errorf(BadRequest, "The requested availability zone is not available")
	}
	// 2.74 destination: nova-api checks that the compute host / node exists (ComputeHostNotFound).
	if req.Host != "" {
		if _, ok := c.host(req.Host); !ok {
			return Server{}, errorf(BadRequest, "Compute host %s could not be found.", req.Host)
		}
		if req.HypervisorHostname != "" && req.HypervisorHostname != req.Host {
			return Server{}, errorf(BadRequest, "Compute host %s could not be found.", req.Host)
		}
	} else if req.HypervisorHostname != "" {
		if _, ok := c.host(req.HypervisorHostname); !ok {
			return Server{}, errorf(BadRequest, "Compute host %s could not be found.", req.HypervisorHostname)
		}
	}
	if _, ok := c.Image(req.ImageRef); !ok {
		return Server{}, errorf(BadRequest, "Can not find requested image")
	}
	if err := c.checkNetworks(req.Networks); err != nil {
		return Server{}, err
	}

	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed {
		return Server{}, errorf(Internal, "the mock cloud is shutting down")
	}
	fl, ok := c.flavors[req.FlavorRef]
	if !ok {
		return Server{}, errorf(BadRequest, "Flavor %s could not be found.", req.FlavorRef)
	}
	if _, err := novaspec.PCIRequests(c.lab.Nova.Aliases, fl.ExtraSpecs); err != nil {
		return Server{}, pciRequestsError(err)
	}
	// nova-api builds the guest NUMA topology before scheduling, so a bad one is refused here
	// (400, or 500 where Nova crashes) rather than turning into a build fault later.
	if _, err := novaspec.GuestTopology(fl.VCPUs, fl.RAMMB, fl.ExtraSpecs); err != nil {
		return Server{}, pciRequestsError(err)
	}

	now := time.Now().UTC().Truncate(time.Second)
	c.serverSeq++
	s := &Server{
		ID:               newUUID(),
		InstanceID:       c.nextID,
		Name:             req.Name,
		Status:           StatusBuild,
		VMState:          "building",
		TaskState:        "scheduling",
		PowerState:       PowerNoState,
		Flavor:           fl.clone(),
		ImageID:          req.ImageRef,
		AvailabilityZone: zone,
		Created:          now,
		Updated:          now,
		Metadata:         maps.Clone(req.Metadata),
		TenantID:         req.TenantID,
		UserID:           req.UserID,
		networks:         slices.Clone(req.Networks),
		seq:              c.serverSeq,
	}
	c.nextID++
	c.servers[s.ID] = s
	c.recordAction(s, "create", now)

	target := forcedHost
	if target == "" {
		target = req.Host
	}
	if target == "" {
		target = forcedNode
	}
	if target == "" {
		target = req.HypervisorHostname
	}
	schedReq := scheduler.Request{
		ServerID:         s.ID,
		VCPUs:            fl.VCPUs,
		MemoryMB:         fl.RAMMB,
		ExtraSpecs:       maps.Clone(fl.ExtraSpecs),
		Host:             target,
		AvailabilityZone: zone,
	}
	id := s.ID
	c.wg.Add(1)
	c.timers[id] = time.AfterFunc(c.latency, func() {
		defer c.wg.Done()
		c.finishBoot(id, schedReq)
	})
	return s.clone(), nil
}

// finishBoot runs when the boot latency has passed: the server lands or fails.
func (c *Cloud) finishBoot(id string, req scheduler.Request) {
	c.mu.Lock()
	defer c.mu.Unlock()
	delete(c.timers, id)
	s, ok := c.servers[id]
	if !ok || c.closed {
		return // deleted while building, or shutting down
	}
	now := time.Now().UTC().Truncate(time.Second)
	create := c.actions[id][0]
	fail := func(msg string) {
		s.Status, s.VMState, s.TaskState, s.PowerState = StatusError, vmError, "", PowerNoState
		s.Fault = &Fault{Code: 500, Message: msg, Created: now}
		s.Updated = now
		create.finishEvent("conductor_schedule_and_build_instances", "", msg, create.StartTime, now)
	}
	// An unknown forced host (zone:HOST) is Nova's force_hosts matching nothing: no valid host.
	if req.Host != "" {
		if _, ok := c.host(req.Host); !ok {
			fail(noValidHost)
			return
		}
	}
	var spawnFault string
	if c.bootFault != nil {
		var stuck bool
		if stuck, spawnFault = c.bootFault(id); stuck {
			return // stays in BUILD; a delete still removes it
		}
	}
	p, err := c.sched.Schedule(req)
	if err != nil {
		if errors.Is(err, scheduler.ErrNoValidHost) {
			fail(noValidHost)
		} else {
			fail(fmt.Sprintf("Build of instance %s aborted: %v", id, err))
		}
		return
	}
	// A spawn failure comes after a host was found: no valid host stays what it is.
	if spawnFault != "" {
		c.sched.Release(id)
		fail(spawnFault)
		return
	}
	inv := c.inventories[p.Host]
	var xml string
	if c.domainXML != nil && inv != nil {
		xml, err = c.domainXML(inv, DomainInfo{
			InstanceID:   s.InstanceID,
			UUID:         s.ID,
			Name:         s.Name,
			InstanceName: s.InstanceName(),
			VCPUs:        s.Flavor.VCPUs,
			MemoryMB:     s.Flavor.RAMMB,
			FlavorName:   s.Flavor.Name,
		}, p)
		if err != nil {
			c.sched.Release(id)
			fail(fmt.Sprintf("Build of instance %s aborted: rendering the domain XML: %v", id, err))
			return
		}
	}
	s.Host, s.Node = p.Host, p.Host
	if h, ok := c.host(p.Host); ok {
		s.AvailabilityZone = h.AvailabilityZone
	}
	create.finishEvent("conductor_schedule_and_build_instances", "", "", create.StartTime, now)
	if err := c.allocatePorts(s, now); err != nil {
		c.sched.Release(id)
		c.releasePorts(id)
		s.Host, s.Node = "", ""
		msg := fmt.Sprintf("Build of instance %s aborted: Failed to allocate the network(s): %v", id, err)
		s.Status, s.VMState, s.TaskState, s.PowerState = StatusError, vmError, "", PowerNoState
		s.Fault = &Fault{Code: 500, Message: msg, Created: now}
		s.Updated = now
		create.finishEvent("compute__do_build_and_run_instance", p.Host, msg, now, now)
		return
	}
	create.finishEvent("compute__do_build_and_run_instance", p.Host, "", now, now)
	s.Ports = c.portsOf(id)
	s.Status, s.VMState, s.TaskState, s.PowerState = StatusActive, vmActive, "", PowerRunning
	s.Placement = p
	s.XML = xml
	s.LaunchedAt = now
	s.Updated = now
}

func serverNotFound(id string) error {
	return errorf(NotFound, "Instance %s could not be found.", id)
}

// Server returns the server with the given id. It is the same lookup as Flavor over another
// map, kept apart on purpose: each returns its own type and Nova's own not-found text, and a
// generic helper would be longer than both.
func (c *Cloud) Server(id string) (Server, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	s, ok := c.servers[id]
	if !ok {
		return Server{}, serverNotFound(id)
	}
	return s.clone(), nil
}

// ServerFilter selects servers as GET /servers?name=&status=&host= does. Name is a regular
// expression searched in the name (Nova's behaviour); the others are exact.
type ServerFilter struct {
	Name   string
	Status string
	Host   string
	Flavor string
	Image  string
}

// Servers returns the servers matching f, newest first (Nova's default sort).
func (c *Cloud) Servers(f ServerFilter) ([]Server, error) {
	var nameRE *regexp.Regexp
	if f.Name != "" {
		var err error
		if nameRE, err = regexp.Compile(f.Name); err != nil {
			// Python's re and Go's regexp differ at the edges; fall back to a literal search
			// rather than refusing a filter Nova would accept.
			nameRE = regexp.MustCompile(regexp.QuoteMeta(f.Name))
		}
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	var out []Server
	for _, s := range c.servers {
		switch {
		case nameRE != nil && !nameRE.MatchString(s.Name):
		case f.Status != "" && !strings.EqualFold(f.Status, s.Status):
		case f.Host != "" && f.Host != s.Host:
		case f.Flavor != "" && f.Flavor != s.Flavor.ID:
		case f.Image != "" && f.Image != s.ImageID:
		default:
			out = append(out, s.clone())
		}
	}
	slices.SortFunc(out, func(a, b Server) int { return b.seq - a.seq })
	return out, nil
}

// DeleteServer removes a server at once: a pending boot is cancelled, its claims are released
// and its domain disappears from its host.
func (c *Cloud) DeleteServer(id string) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	s, ok := c.servers[id]
	if !ok {
		return serverNotFound(id)
	}
	if t, ok := c.timers[id]; ok {
		if t.Stop() {
			c.wg.Done()
		}
		delete(c.timers, id)
	}
	now := time.Now().UTC().Truncate(time.Second)
	c.recordAction(s, "delete", now).finishEvent("compute_terminate_instance", s.Host, "", now, now)
	delete(c.servers, id)
	c.releasePorts(id)
	c.sched.Release(id)
	return nil
}

// parseAvailabilityZone splits Nova's legacy forcing syntax (nova/compute/api.py
// parse_availability_zone): "az", "az:host", "az:host:node", "az::node".
func parseAvailabilityZone(az string) (zone, host, node string, err error) {
	switch strings.Count(az, ":") {
	case 0:
		return az, "", "", nil
	case 1:
		zone, host, _ = strings.Cut(az, ":")
		return zone, host, "", nil
	case 2:
		if z, n, ok := strings.Cut(az, "::"); ok {
			return z, "", n, nil
		}
		parts := strings.Split(az, ":")
		return parts[0], parts[1], parts[2], nil
	default:
		return "", "", "", errorf(BadRequest, "Invalid input received: Unable to parse availability_zone")
	}
}
