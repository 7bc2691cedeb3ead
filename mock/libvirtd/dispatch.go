package libvirtd

import (
	"cmp"
	"encoding/hex"
	"fmt"
	"log/slog"
	"slices"
	"strings"
)

// Versions reported to clients: libvirt 9.0.0 with QEMU 7.2.0, as on Debian bookworm.
const (
	libVersion  = 9000000
	qemuVersion = 7002000
)

// VIR_CONNECT_LIST_DOMAINS_* filter pairs (include-if-true, include-if-false).
const (
	listDomActive        = 1 << 0
	listDomInactive      = 1 << 1
	listDomPersistent    = 1 << 2
	listDomTransient     = 1 << 3
	listDomRunning       = 1 << 4
	listDomPaused        = 1 << 5
	listDomShutoff       = 1 << 6
	listDomOther         = 1 << 7
	listDomManagedSave   = 1 << 8
	listDomNoManagedSave = 1 << 9
	listDomAutostart     = 1 << 10
	listDomNoAutostart   = 1 << 11
	listDomSnapshot      = 1 << 12
	listDomNoSnapshot    = 1 << 13
	listDomCheckpoint    = 1 << 14
	listDomNoCheckpoint  = 1 << 15
	listDomAll           = 1<<16 - 1
)

// VIR_CONNECT_LIST_NODE_DEVICES_* as libvirt 9.0 knows them: capability bits 0-21, then
// INACTIVE and ACTIVE. Anything else is refused, as virCheckFlags does.
const (
	listCapSystem      = 1 << 0
	listCapPCI         = 1 << 1
	listCapAll         = 1<<22 - 1
	listNodeInactive   = 1 << 30
	listNodeActive     = 1 << 31
	listNodeSupported  = listCapAll | listNodeInactive | listNodeActive
	domainXMLSupported = 1 | 2 | 4 | 8 // SECURE, INACTIVE, UPDATE_CPU, MIGRATABLE
)

// Domain states (virDomainState) and the reasons reported with them.
const (
	stateRunning       = 1
	stateShutoff       = 5
	reasonBooted       = 1
	reasonShutdown     = 1
	nodeInfoCPUMHz     = 2400
	nodeInfoModelBytes = 32
)

// session is the state of one client connection.
type session struct {
	srv    *Server
	log    *slog.Logger
	opened bool
}

type handler struct {
	fn func(s *session, d *decoder, e *encoder) *rpcError
	// preOpen marks the calls the handshake makes before CONNECT_OPEN.
	preOpen bool
}

var handlers map[int32]handler

func init() {
	handlers = map[int32]handler{
		procAuthList:                  {(*session).authList, true},
		procConnectSupportsFeature:    {(*session).supportsFeature, true},
		procConnectOpen:               {(*session).connectOpen, true},
		procConnectClose:              {(*session).connectClose, false},
		procConnectGetType:            {answerString(func(*session) string { return "QEMU" }), false},
		procConnectGetVersion:         {answerUint64(qemuVersion), false},
		procConnectGetLibVersion:      {answerUint64(libVersion), false},
		procConnectGetHostname:        {answerString(func(s *session) string { return s.srv.host }), false},
		procConnectGetURI:             {answerString(func(*session) string { return "qemu:///system" }), false},
		procNodeGetInfo:               {(*session).nodeGetInfo, false},
		procConnectGetCapabilities:    {(*session).getCapabilities, false},
		procConnectListAllDomains:     {(*session).listAllDomains, false},
		procConnectNumOfDomains:       {(*session).numOfDomains, false},
		procConnectListDomains:        {(*session).listDomains, false},
		procConnectNumOfDefinedDoms:   {(*session).numOfDefinedDomains, false},
		procConnectListDefinedDomains: {(*session).listDefinedDomains, false},
		procDomainLookupByName:        {(*session).lookupByName, false},
		procDomainLookupByUUID:        {(*session).lookupByUUID, false},
		procDomainLookupByID:          {(*session).lookupByID, false},
		procDomainGetXMLDesc:          {(*session).domainGetXMLDesc, false},
		procDomainGetState:            {(*session).domainGetState, false},
		procDomainGetInfo:             {(*session).domainGetInfo, false},
		procDomainIsActive:            {(*session).domainIsActive, false},
		procDomainIsPersistent:        {(*session).domainIsPersistent, false},
		procConnectListAllNodeDevices: {(*session).listAllNodeDevices, false},
		procNodeNumOfDevices:          {(*session).nodeNumOfDevices, false},
		procNodeListDevices:           {(*session).nodeListDevices, false},
		procNodeDeviceLookupByName:    {(*session).nodeDeviceLookupByName, false},
		procNodeDeviceGetXMLDesc:      {(*session).nodeDeviceGetXMLDesc, false},
		procNodeDeviceGetParent:       {(*session).nodeDeviceGetParent, false},
		procNodeDeviceNumOfCaps:       {(*session).nodeDeviceNumOfCaps, false},
		procNodeDeviceListCaps:        {(*session).nodeDeviceListCaps, false},
	}
}

// handle processes one message (header + payload) and returns the bytes to send back, or nil.
func (s *session) handle(msg []byte) []byte {
	h := parseHeader(msg[:headerSize])
	payload := msg[headerSize:]
	if h.Prog == keepaliveProg {
		// Keepalive messages never get a REPLY: a PING gets a PONG, anything else is dropped.
		if h.Type == typeMessage && h.Proc == keepalivePing {
			s.log.Debug("keepalive ping")
			return frame(header{Prog: keepaliveProg, Vers: keepaliveVers, Proc: keepalivePong, Type: typeMessage}, nil)
		}
		return nil
	}
	if h.Type != typeCall {
		s.log.Debug("ignoring a message that is not a call", "header", h.String())
		return nil
	}
	reply := header{Prog: h.Prog, Vers: h.Vers, Proc: h.Proc, Type: typeReply, Serial: h.Serial, Status: statusOK}
	var rerr *rpcError
	e := &encoder{}
	switch {
	case h.Prog != remoteProgram || h.Vers != remoteVersion:
		rerr = &rpcError{errRPC, fromRPC, fmt.Sprintf("RPC error: cannot find program %d version %d", h.Prog, h.Vers)}
	default:
		hd, ok := handlers[h.Proc]
		switch {
		case !ok:
			rerr = errUnknownProc(h.Proc)
		case !hd.preOpen && !s.opened:
			rerr = errNotOpen()
		default:
			d := &decoder{b: payload}
			rerr = hd.fn(s, d, e)
		}
	}
	if rerr != nil {
		s.log.Debug("call failed", "proc", h.Proc, "serial", h.Serial, "code", rerr.Code, "message", rerr.Message)
		reply.Status = statusError
		e = &encoder{}
		rerr.encode(e)
	} else {
		s.log.Debug("call", "proc", h.Proc, "serial", h.Serial)
	}
	return frame(reply, e.b)
}

// done checks that the arguments decoded cleanly and completely.
func done(d *decoder) *rpcError {
	if err := d.finish(); err != nil {
		return errDecode(err)
	}
	return nil
}

// ---- connection ----

func (s *session) authList(d *decoder, e *encoder) *rpcError {
	if err := done(d); err != nil {
		return err
	}
	e.uint32(1)
	e.int32(0) // REMOTE_AUTH_NONE
	return nil
}

func (s *session) supportsFeature(d *decoder, e *encoder) *rpcError {
	feature := d.int32()
	if err := done(d); err != nil {
		return err
	}
	// Keepalive is supported (PINGs get PONGs). Event and close callbacks are not: answering 0
	// keeps the client from registering callbacks the daemon would never fire.
	supported := int32(0)
	if feature == featureProgramKeepalive {
		supported = 1
	}
	e.int32(supported)
	return nil
}

func (s *session) connectOpen(d *decoder, e *encoder) *rpcError {
	name := d.optString(stringMax)
	flags := d.uint32()
	if err := done(d); err != nil {
		return err
	}
	uri := "<null>"
	if name != nil {
		uri = *name
	}
	s.log.Debug("connect open", "uri", uri, "flags", flags)
	s.opened = true
	return nil
}

func (s *session) connectClose(d *decoder, e *encoder) *rpcError {
	if err := done(d); err != nil {
		return err
	}
	s.opened = false
	return nil
}

// answerString and answerUint64 are the procedures that take no arguments and return one value.
func answerString(value func(*session) string) func(*session, *decoder, *encoder) *rpcError {
	return func(s *session, d *decoder, e *encoder) *rpcError {
		if err := done(d); err != nil {
			return err
		}
		e.string(value(s))
		return nil
	}
}

func answerUint64(v uint64) func(*session, *decoder, *encoder) *rpcError {
	return func(_ *session, d *decoder, e *encoder) *rpcError {
		if err := done(d); err != nil {
			return err
		}
		e.uint64(v)
		return nil
	}
}

func (s *session) getCapabilities(d *decoder, e *encoder) *rpcError {
	if err := done(d); err != nil {
		return err
	}
	if s.srv.capsErr != nil {
		return errInternalf("cannot render capabilities: %v", s.srv.capsErr)
	}
	e.string(s.srv.caps)
	return nil
}

// nodeGetInfo answers virNodeGetInfo: sockets is per NUMA node, cores per socket, as libvirt
// reports them.
func (s *session) nodeGetInfo(d *decoder, e *encoder) *rpcError {
	if err := done(d); err != nil {
		return err
	}
	inv := s.srv.inv
	if inv == nil || inv.Host == nil {
		return errInternalf("no host inventory")
	}
	var memKiB uint64
	for _, n := range inv.Host.NUMANodes {
		memKiB += uint64(n.MemoryMB) * 1024
	}
	sockets, cores, threads := 1, 1, 1
	perNode := map[int]map[int]bool{}
	for _, c := range inv.CPUs {
		if perNode[c.Node] == nil {
			perNode[c.Node] = map[int]bool{}
		}
		perNode[c.Node][c.Socket] = true
		threads = max(threads, len(c.Siblings))
	}
	for _, socks := range perNode {
		sockets = max(sockets, len(socks))
	}
	for _, n := range inv.Host.NUMANodes {
		cores = max(cores, len(n.Cores))
	}
	// char model[32] is an XDR fixed array of chars: 32 four-byte items.
	model := "x86_64"
	for i := 0; i < nodeInfoModelBytes; i++ {
		var c int32
		if i < len(model) {
			c = int32(model[i])
		}
		e.int32(c)
	}
	e.uint64(memKiB)
	e.int32(int32(len(inv.CPUs)))
	e.int32(nodeInfoCPUMHz)
	e.int32(int32(max(1, len(inv.Host.NUMANodes))))
	e.int32(int32(sockets))
	e.int32(int32(cores))
	e.int32(int32(threads))
	return nil
}

// ---- domains ----

// domain is a DomainSource domain with its UUID in wire form.
type domain struct {
	Domain
	uuid [uuidLen]byte
}

func parseUUID(s string) ([uuidLen]byte, bool) {
	var u [uuidLen]byte
	h := strings.ReplaceAll(s, "-", "")
	if len(h) != 2*uuidLen {
		return u, false
	}
	if _, err := hex.Decode(u[:], []byte(h)); err != nil {
		return u, false
	}
	return u, true
}

func formatUUID(u []byte) string {
	if len(u) != uuidLen {
		return hex.EncodeToString(u)
	}
	return fmt.Sprintf("%x-%x-%x-%x-%x", u[0:4], u[4:6], u[6:8], u[8:10], u[10:16])
}

// domains asks the source for the host's domains right now: a domain exists only while listed.
// Active domains come first by id, then inactive ones by name.
func (s *session) domains() []domain {
	if s.srv.src == nil {
		return nil
	}
	var out []domain
	for _, d := range s.srv.src.Domains() {
		u, ok := parseUUID(d.UUID)
		if !ok {
			s.log.Warn("domain source gave a domain with an invalid UUID; ignoring it", "domain", d.Name, "uuid", d.UUID)
			continue
		}
		if !d.Active {
			d.ID = -1
		}
		out = append(out, domain{Domain: d, uuid: u})
	}
	slices.SortStableFunc(out, func(a, b domain) int {
		if a.Active != b.Active {
			if a.Active {
				return -1
			}
			return 1
		}
		if a.Active {
			return cmp.Compare(a.ID, b.ID)
		}
		return cmp.Compare(a.Name, b.Name)
	})
	return out
}

func encodeDomain(e *encoder, d *domain) {
	e.string(d.Name)
	e.fixedOpaque(d.uuid[:])
	e.int32(int32(d.ID))
}

// domainArg reads remote_nonnull_domain and resolves it by UUID, as the QEMU driver does.
func (s *session) domainArg(d *decoder) (name string, uuid []byte) {
	name = d.string(stringMax)
	uuid = d.fixedOpaque(uuidLen)
	d.int32()
	return name, uuid
}

func (s *session) findByUUID(uuid []byte) (*domain, bool) {
	for _, d := range s.domains() {
		if string(d.uuid[:]) == string(uuid) {
			return &d, true
		}
	}
	return nil, false
}

func (s *session) resolve(d *decoder) (*domain, *rpcError) {
	name, uuid := s.domainArg(d)
	if err := done(d); err != nil {
		return nil, err
	}
	dom, ok := s.findByUUID(uuid)
	if !ok {
		return nil, errNoDomainObj(formatUUID(uuid), name)
	}
	return dom, nil
}

// pairFilter applies one include-if/include-if-not pair of list flags: with neither or both bits
// set everything passes.
func pairFilter(flags, yes, no uint32, has bool) bool {
	y, n := flags&yes != 0, flags&no != 0
	if y == n {
		return true
	}
	return has == y
}

func domainMatches(d *domain, flags uint32) bool {
	if !pairFilter(flags, listDomActive, listDomInactive, d.Active) {
		return false
	}
	// Nova defines persistent domains; none is transient.
	if !pairFilter(flags, listDomPersistent, listDomTransient, true) {
		return false
	}
	if states := flags & (listDomRunning | listDomPaused | listDomShutoff | listDomOther); states != 0 {
		if (d.Active && states&listDomRunning == 0) || (!d.Active && states&listDomShutoff == 0) {
			return false
		}
	}
	// No managed save image, no autostart, no snapshot, no checkpoint.
	for _, p := range [][2]uint32{{listDomManagedSave, listDomNoManagedSave}, {listDomAutostart, listDomNoAutostart},
		{listDomSnapshot, listDomNoSnapshot}, {listDomCheckpoint, listDomNoCheckpoint}} {
		if !pairFilter(flags, p[0], p[1], false) {
			return false
		}
	}
	return true
}

func (s *session) listAllDomains(d *decoder, e *encoder) *rpcError {
	need := d.int32()
	flags := d.uint32()
	if err := done(d); err != nil {
		return err
	}
	if bad := flags &^ listDomAll; bad != 0 {
		return errFlags(fromQEMU, bad, "qemuConnectListAllDomains")
	}
	var match []domain
	for _, dom := range s.domains() {
		if domainMatches(&dom, flags) {
			match = append(match, dom)
		}
	}
	if len(match) > domainListMax {
		return &rpcError{errRPC, fromRPC, fmt.Sprintf("RPC error: Too many domains '%d' for limit '%d'", len(match), domainListMax)}
	}
	if need != 0 {
		e.uint32(uint32(len(match)))
		for i := range match {
			encodeDomain(e, &match[i])
		}
	} else {
		e.uint32(0)
	}
	e.uint32(uint32(len(match)))
	return nil
}

func (s *session) numOfDomains(d *decoder, e *encoder) *rpcError {
	if err := done(d); err != nil {
		return err
	}
	n := 0
	for _, dom := range s.domains() {
		if dom.Active {
			n++
		}
	}
	e.int32(int32(n))
	return nil
}

// checkMax validates the maxids/maxnames argument of the legacy list calls.
func checkMax(what string, v int32, limit int) *rpcError {
	if v < 0 {
		return errInvalid(fromQEMU, "%s in virConnectList must be non-negative, got %d", what, v)
	}
	if int(v) > limit {
		return &rpcError{errRPC, fromRPC, fmt.Sprintf("RPC error: %s > %d", what, limit)}
	}
	return nil
}

func (s *session) listDomains(d *decoder, e *encoder) *rpcError {
	maxIDs := d.int32()
	if err := done(d); err != nil {
		return err
	}
	if err := checkMax("maxids", maxIDs, domainIDListMax); err != nil {
		return err
	}
	var ids []int32
	for _, dom := range s.domains() {
		if dom.Active && len(ids) < int(maxIDs) {
			ids = append(ids, int32(dom.ID))
		}
	}
	e.uint32(uint32(len(ids)))
	for _, id := range ids {
		e.int32(id)
	}
	return nil
}

func (s *session) numOfDefinedDomains(d *decoder, e *encoder) *rpcError {
	if err := done(d); err != nil {
		return err
	}
	n := 0
	for _, dom := range s.domains() {
		if !dom.Active {
			n++
		}
	}
	e.int32(int32(n))
	return nil
}

func (s *session) listDefinedDomains(d *decoder, e *encoder) *rpcError {
	maxNames := d.int32()
	if err := done(d); err != nil {
		return err
	}
	if err := checkMax("maxnames", maxNames, domainListMax); err != nil {
		return err
	}
	var names []string
	for _, dom := range s.domains() {
		if !dom.Active && len(names) < int(maxNames) {
			names = append(names, dom.Name)
		}
	}
	e.uint32(uint32(len(names)))
	for _, n := range names {
		e.string(n)
	}
	return nil
}

func (s *session) lookupByName(d *decoder, e *encoder) *rpcError {
	name := d.string(stringMax)
	if err := done(d); err != nil {
		return err
	}
	for _, dom := range s.domains() {
		if dom.Name == name {
			encodeDomain(e, &dom)
			return nil
		}
	}
	return errNoDomainName(name)
}

func (s *session) lookupByUUID(d *decoder, e *encoder) *rpcError {
	uuid := d.fixedOpaque(uuidLen)
	if err := done(d); err != nil {
		return err
	}
	dom, ok := s.findByUUID(uuid)
	if !ok {
		return errNoDomainUUID(formatUUID(uuid))
	}
	encodeDomain(e, dom)
	return nil
}

func (s *session) lookupByID(d *decoder, e *encoder) *rpcError {
	id := d.int32()
	if err := done(d); err != nil {
		return err
	}
	for _, dom := range s.domains() {
		if dom.Active && int32(dom.ID) == id {
			encodeDomain(e, &dom)
			return nil
		}
	}
	return errNoDomainID(id)
}

func (s *session) domainGetXMLDesc(d *decoder, e *encoder) *rpcError {
	name, uuid := s.domainArg(d)
	flags := d.uint32()
	if err := done(d); err != nil {
		return err
	}
	if bad := flags &^ domainXMLSupported; bad != 0 {
		return errFlags(fromQEMU, bad, "qemuDomainGetXMLDesc")
	}
	dom, ok := s.findByUUID(uuid)
	if !ok {
		return errNoDomainObj(formatUUID(uuid), name)
	}
	if dom.XML == "" {
		return errInternalf("domain %s has no XML", dom.Name)
	}
	e.string(dom.XML)
	return nil
}

func (s *session) domainGetState(d *decoder, e *encoder) *rpcError {
	name, uuid := s.domainArg(d)
	flags := d.uint32()
	if err := done(d); err != nil {
		return err
	}
	if flags != 0 {
		return errFlags(fromQEMU, flags, "qemuDomainGetState")
	}
	dom, ok := s.findByUUID(uuid)
	if !ok {
		return errNoDomainObj(formatUUID(uuid), name)
	}
	if dom.Active {
		e.int32(stateRunning)
		e.int32(reasonBooted)
	} else {
		e.int32(stateShutoff)
		e.int32(reasonShutdown)
	}
	return nil
}

func (s *session) domainGetInfo(d *decoder, e *encoder) *rpcError {
	dom, err := s.resolve(d)
	if err != nil {
		return err
	}
	state := uint32(stateShutoff)
	if dom.Active {
		state = stateRunning
	}
	e.uint32(state) // unsigned char: 4 bytes in XDR
	e.uint64(dom.MemoryKiB)
	e.uint64(dom.MemoryKiB)
	e.uint32(uint32(dom.VCPUs)) // unsigned short: 4 bytes in XDR
	e.uint64(0)                 // cpuTime: the mock's guests burn no CPU
	return nil
}

func (s *session) domainIsActive(d *decoder, e *encoder) *rpcError {
	dom, err := s.resolve(d)
	if err != nil {
		return err
	}
	e.bool(dom.Active)
	return nil
}

func (s *session) domainIsPersistent(d *decoder, e *encoder) *rpcError {
	if _, err := s.resolve(d); err != nil {
		return err
	}
	e.int32(1)
	return nil
}

// ---- node devices ----

// devicesWithCap filters by capability name as virNodeDevCapTypeToString spells it ("system",
// "pci"); a nil cap means every device.
func (s *session) devicesWithCap(cap *string) []*nodeDevice {
	var out []*nodeDevice
	for i := range s.srv.devices {
		nd := &s.srv.devices[i]
		if cap == nil || *cap == nd.cap {
			out = append(out, nd)
		}
	}
	return out
}

func (s *session) listAllNodeDevices(d *decoder, e *encoder) *rpcError {
	need := d.int32()
	flags := d.uint32()
	if err := done(d); err != nil {
		return err
	}
	if bad := flags &^ listNodeSupported; bad != 0 {
		return errFlags(fromNodeDev, bad, "nodeConnectListAllNodeDevices")
	}
	var match []*nodeDevice
	for i := range s.srv.devices {
		nd := &s.srv.devices[i]
		if caps := flags & listCapAll; caps != 0 && caps&nd.flag == 0 {
			continue
		}
		// Every device of the mock is active (present in sysfs); none is an inactive mdev.
		if !pairFilter(flags, listNodeActive, listNodeInactive, true) {
			continue
		}
		match = append(match, nd)
	}
	if need != 0 {
		e.uint32(uint32(len(match)))
		for _, nd := range match {
			e.string(nd.name)
		}
	} else {
		e.uint32(0)
	}
	e.uint32(uint32(len(match)))
	return nil
}

func (s *session) nodeNumOfDevices(d *decoder, e *encoder) *rpcError {
	cap := d.optString(stringMax)
	flags := d.uint32()
	if err := done(d); err != nil {
		return err
	}
	if flags != 0 {
		return errFlags(fromNodeDev, flags, "nodeNumOfDevices")
	}
	e.int32(int32(len(s.devicesWithCap(cap))))
	return nil
}

func (s *session) nodeListDevices(d *decoder, e *encoder) *rpcError {
	cap := d.optString(stringMax)
	maxNames := d.int32()
	flags := d.uint32()
	if err := done(d); err != nil {
		return err
	}
	if maxNames > nodeDevListMax {
		return &rpcError{errRPC, fromRPC, "RPC error: maxnames > REMOTE_NODE_DEVICE_LIST_MAX"}
	}
	if maxNames < 0 {
		return errInvalid(fromNodeDev, "maxnames in nodeListDevices must be non-negative, got %d", maxNames)
	}
	if flags != 0 {
		return errFlags(fromNodeDev, flags, "nodeListDevices")
	}
	devs := s.devicesWithCap(cap)
	if len(devs) > int(maxNames) {
		devs = devs[:maxNames]
	}
	e.uint32(uint32(len(devs)))
	for _, nd := range devs {
		e.string(nd.name)
	}
	return nil
}

func (s *session) device(name string) (*nodeDevice, *rpcError) {
	i, ok := s.srv.byName[name]
	if !ok {
		return nil, errNoNodeDev(name)
	}
	return &s.srv.devices[i], nil
}

func (s *session) nodeDeviceLookupByName(d *decoder, e *encoder) *rpcError {
	name := d.string(stringMax)
	if err := done(d); err != nil {
		return err
	}
	nd, err := s.device(name)
	if err != nil {
		return err
	}
	e.string(nd.name)
	return nil
}

func (s *session) nodeDeviceGetXMLDesc(d *decoder, e *encoder) *rpcError {
	name := d.string(stringMax)
	flags := d.uint32()
	if err := done(d); err != nil {
		return err
	}
	nd, err := s.device(name)
	if err != nil {
		return err
	}
	if flags != 0 {
		return errFlags(fromNodeDev, flags, "nodeDeviceGetXMLDesc")
	}
	if nd.err != nil {
		return &rpcError{errInternal, fromNodeDev, fmt.Sprintf("internal error: cannot format node device %s: %v", nd.name, nd.err)}
	}
	e.string(nd.xml)
	return nil
}

func (s *session) nodeDeviceGetParent(d *decoder, e *encoder) *rpcError {
	name := d.string(stringMax)
	if err := done(d); err != nil {
		return err
	}
	nd, err := s.device(name)
	if err != nil {
		return err
	}
	if nd.parent == "" {
		e.optString(nil)
	} else {
		p := nd.parent
		e.optString(&p)
	}
	return nil
}

func (s *session) nodeDeviceNumOfCaps(d *decoder, e *encoder) *rpcError {
	name := d.string(stringMax)
	if err := done(d); err != nil {
		return err
	}
	if _, err := s.device(name); err != nil {
		return err
	}
	e.int32(1)
	return nil
}

func (s *session) nodeDeviceListCaps(d *decoder, e *encoder) *rpcError {
	name := d.string(stringMax)
	maxNames := d.int32()
	if err := done(d); err != nil {
		return err
	}
	if maxNames > nodeDevCapsMax {
		return &rpcError{errRPC, fromRPC, "RPC error: maxnames > REMOTE_NODE_DEVICE_CAPS_LIST_MAX"}
	}
	nd, err := s.device(name)
	if err != nil {
		return err
	}
	if maxNames < 1 {
		e.uint32(0)
		return nil
	}
	e.uint32(1)
	e.string(nd.cap)
	return nil
}
