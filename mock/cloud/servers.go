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
	// Count is how many servers to create (max_count; 0 is 1). They are scheduled together, each
	// with its own devices; when one does not fit, none is placed and all go to ERROR with No
	// valid host (the scheduler's _ensure_sufficient_hosts). With more than one, the servers are
	// named NAME-1, NAME-2, ... as nova-api names them.
	Count int
}

// CreateServer checks a request synchronously as nova-api does (zone, destination, image,
// flavor, PCI aliases) and, when it passes, records the servers (req.Count) in BUILD and
// schedules them after the boot latency. It returns the first server, as POST /servers does.
// Errors are *Error with Nova's texts.
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
	count := max(req.Count, 1)
	boots := make([]pendingBoot, 0, count)
	for i := range count {
		name := req.Name
		if count > 1 {
			name = fmt.Sprintf("%s-%d", req.Name, i+1)
		}
		c.serverSeq++
		s := &Server{
			ID:               newUUID(),
			InstanceID:       c.nextID,
			Name:             name,
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
		boots = append(boots, pendingBoot{id: s.ID, req: scheduler.Request{
			ServerID:         s.ID,
			VCPUs:            fl.VCPUs,
			MemoryMB:         fl.RAMMB,
			ExtraSpecs:       maps.Clone(fl.ExtraSpecs),
			Host:             target,
			AvailabilityZone: zone,
		}})
	}
	c.wg.Add(1)
	t := time.AfterFunc(c.latency, func() {
		defer c.wg.Done()
		c.finishBoots(boots)
	})
	for _, b := range boots {
		c.timers[b.id] = t
	}
	return c.servers[boots[0].id].clone(), nil
}

// pendingBoot is one server of a create request waiting for its boot.
type pendingBoot struct {
	id  string
	req scheduler.Request
}

// cancelBoot forgets a server's pending boot; the timer is stopped when no other server of the
// same request still waits on it.
func (c *Cloud) cancelBoot(id string) {
	t, ok := c.timers[id]
	if !ok {
		return
	}
	delete(c.timers, id)
	for _, other := range c.timers {
		if other == t {
			return
		}
	}
	if t.Stop() {
		c.wg.Done()
	}
}

// finishBoots runs when the boot latency has passed: the servers of one request are scheduled
// together, as the scheduler places a multi-create (all or none), then each lands or fails.
func (c *Cloud) finishBoots(boots []pendingBoot) {
	c.mu.Lock()
	defer c.mu.Unlock()
	var live []pendingBoot
	for _, b := range boots {
		delete(c.timers, b.id)
		if _, ok := c.servers[b.id]; ok && !c.closed {
			live = append(live, b) // others were deleted while building
		}
	}
	now := time.Now().UTC().Truncate(time.Second)
	spawnFaults := map[string]string{}
	placed := map[string]*scheduler.Placement{}
	var scheduled []pendingBoot
	schedErr := func() error {
		for _, b := range live {
			// An unknown forced host (zone:HOST) is Nova's force_hosts matching nothing.
			if b.req.Host != "" {
				if _, ok := c.host(b.req.Host); !ok {
					return scheduler.ErrNoValidHost
				}
			}
			if c.bootFault != nil {
				stuck, fault := c.bootFault(b.id)
				if stuck {
					continue // stays in BUILD; a delete still removes it
				}
				spawnFaults[b.id] = fault
			}
			p, err := c.sched.Schedule(b.req)
			if err != nil {
				return err
			}
			placed[b.id] = p
			scheduled = append(scheduled, b)
		}
		return nil
	}()
	if schedErr != nil {
		for _, b := range scheduled {
			c.sched.Release(b.id)
		}
		for _, b := range live {
			msg := noValidHost
			if !errors.Is(schedErr, scheduler.ErrNoValidHost) {
				msg = fmt.Sprintf("Build of instance %s aborted: %v", b.id, schedErr)
			}
			c.failBuild(c.servers[b.id], msg, now)
		}
		return
	}
	for _, b := range scheduled {
		c.land(c.servers[b.id], placed[b.id], spawnFaults[b.id], now)
	}
}

// failBuild puts a server in ERROR with a scheduling fault.
func (c *Cloud) failBuild(s *Server, msg string, now time.Time) {
	s.Status, s.VMState, s.TaskState, s.PowerState = StatusError, vmError, "", PowerNoState
	s.Fault = &Fault{Code: 500, Message: msg, Created: now}
	s.Updated = now
	create := c.actions[s.ID][0]
	create.finishEvent("conductor_schedule_and_build_instances", "", msg, create.StartTime, now)
}

// land turns a scheduled server ACTIVE on its host, or ERROR when its spawn fails (a boot fault,
// the domain XML, its ports).
func (c *Cloud) land(s *Server, p *scheduler.Placement, spawnFault string, now time.Time) {
	id := s.ID
	create := c.actions[id][0]
	fail := func(msg string) { c.failBuild(s, msg, now) }
	// A spawn failure comes after a host was found: no valid host stays what it is.
	if spawnFault != "" {
		c.sched.Release(id)
		fail(spawnFault)
		return
	}
	inv := c.inventories[p.Host]
	var xml string
	if c.domainXML != nil && inv != nil {
		var err error
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
	c.cancelBoot(id)
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
