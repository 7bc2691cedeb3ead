package libvirtd

// The procedures of the connection (handshake, open, close) and of the host as a whole (versions,
// hostname, capabilities, node info).

// Versions reported to clients: libvirt 9.0.0 with QEMU 7.2.0, as on Debian bookworm.
const (
	libVersion  = 9000000
	qemuVersion = 7002000
)

// virNodeGetInfo's fixed answers.
const (
	nodeInfoCPUMHz     = 2400
	nodeInfoModelBytes = 32
)

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
	// Keepalive is supported (PINGs get PONGs), and string typed parameters (numatune's nodeset).
	// Event and close callbacks are not: answering 0 keeps the client from registering callbacks
	// the daemon would never fire.
	supported := int32(0)
	if feature == featureProgramKeepalive || feature == featureTypedParamString {
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
