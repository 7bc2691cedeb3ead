package libvirtd

import (
	"cmp"
	"encoding/hex"
	"fmt"
	"slices"
	"strings"
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

// domainXMLSupported are the virDomainGetXMLDesc flags accepted: SECURE, INACTIVE, UPDATE_CPU,
// MIGRATABLE.
const domainXMLSupported = 1 | 2 | 4 | 8

// Domain states (virDomainState) and the reasons reported with them.
const (
	stateRunning   = 1
	stateShutoff   = 5
	reasonBooted   = 1
	reasonShutdown = 1
)

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

// encodeDomain writes remote_nonnull_domain.
func encodeDomain(e *encoder, d domain) {
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
	encodeListAll(e, need, match, encodeDomain)
	return nil
}

// The legacy (pre-ListAll) domain procedures come in NumOf/List pairs over two sets: the running
// domains, listed by id, and the defined (inactive) ones, listed by name.
type domainSet struct {
	active bool
	maxArg string // the list call's argument, as libvirt's errors name it
	limit  int    // REMOTE_DOMAIN_ID_LIST_MAX or REMOTE_DOMAIN_LIST_MAX
	write  func(e *encoder, d domain)
}

var (
	runningDomains = domainSet{active: true, maxArg: "maxids", limit: domainIDListMax,
		write: func(e *encoder, d domain) { e.int32(int32(d.ID)) }}
	definedDomains = domainSet{active: false, maxArg: "maxnames", limit: domainListMax,
		write: func(e *encoder, d domain) { e.string(d.Name) }}
)

func (set domainSet) members(s *session) []domain {
	return slices.DeleteFunc(s.domains(), func(d domain) bool { return d.Active != set.active })
}

// count answers ConnectNumOfDomains and ConnectNumOfDefinedDomains.
func (set domainSet) count(s *session, d *decoder, e *encoder) *rpcError {
	if err := done(d); err != nil {
		return err
	}
	e.int32(int32(len(set.members(s))))
	return nil
}

// list answers ConnectListDomains and ConnectListDefinedDomains.
func (set domainSet) list(s *session, d *decoder, e *encoder) *rpcError {
	maxItems := d.int32()
	if err := done(d); err != nil {
		return err
	}
	if err := checkMax(set.maxArg, maxItems, set.limit); err != nil {
		return err
	}
	encodeArray(e, firstN(set.members(s), maxItems), set.write)
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

func (s *session) lookupByName(d *decoder, e *encoder) *rpcError {
	name := d.string(stringMax)
	if err := done(d); err != nil {
		return err
	}
	for _, dom := range s.domains() {
		if dom.Name == name {
			encodeDomain(e, dom)
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
	encodeDomain(e, *dom)
	return nil
}

func (s *session) lookupByID(d *decoder, e *encoder) *rpcError {
	id := d.int32()
	if err := done(d); err != nil {
		return err
	}
	for _, dom := range s.domains() {
		if dom.Active && int32(dom.ID) == id {
			encodeDomain(e, dom)
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
