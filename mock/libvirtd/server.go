// Package libvirtd is a fake libvirt daemon for one compute host of the mock lab. It speaks the
// real libvirt remote RPC protocol (src/rpc/virnetprotocol.x, src/remote/remote_protocol.x) over
// unix or TCP sockets with no authentication, so that `virsh -c qemu+unix:///system?socket=...`
// and libvirt.org/go/libvirt talk to it exactly as to a real libvirtd: capabilities and node
// devices come from the lab inventory (rendered by mock/render), domains from a DomainSource at
// call time.
//
// The daemon is built without cgo; only its tests link the real libvirt client.
package libvirtd

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"runtime/debug"
	"sync"
	"time"

	"github.com/hwcert/hwcert/mock/chaos"
	"github.com/hwcert/hwcert/mock/lab"
	"github.com/hwcert/hwcert/mock/render"
)

// writeTimeout bounds how long a reply may wait for a client that stopped reading, so that such
// a client cannot pin a goroutine forever.
const writeTimeout = 30 * time.Second

// limits bound what clients can make the daemon hold: at most maxConns connections served at
// once (past them a client waits in the kernel's accept queue, as with a real libvirtd at
// max_clients), calls of at most callMax bytes (every call the daemon serves is a few hundred
// bytes; libvirt's own 32 MiB limit is for the domain XML a define carries, which it does not
// serve), a call's bytes within readTimeout of its first, and a connection idle for idleTimeout
// closed (a libvirt client reconnects; one using keepalive is never idle that long).
type limits struct {
	maxConns    int
	callMax     uint32
	readTimeout time.Duration
	idleTimeout time.Duration
}

var defaultLimits = limits{maxConns: 64, callMax: 1 << 20, readTimeout: 30 * time.Second, idleTimeout: 15 * time.Minute}

// nodeDevice is one node device of the host with its XML rendered once (the hardware is static).
type nodeDevice struct {
	name   string
	parent string // "" for the root
	cap    string // capability type: "system" or "pci"
	flag   uint32 // its VIR_CONNECT_LIST_NODE_DEVICES_CAP_* bit
	xml    string
	err    error
}

// Server is the fake libvirtd of one host.
type Server struct {
	host string
	inv  *lab.HostInventory
	src  DomainSource
	log  *slog.Logger
	// started is when the host "booted": node CPU times count from it.
	started time.Time

	caps    string
	capsErr error
	devices []nodeDevice
	byName  map[string]int
	chaos   *chaos.Set // plumbing faults (chaos.go); nil injects none

	mu        sync.Mutex
	closed    bool
	done      chan struct{}
	listeners map[net.Listener]struct{}
	conns     map[net.Conn]struct{}
	downUntil time.Time // a restart (chaos.go) keeps the daemon away until then
	wg        sync.WaitGroup

	limits limits
	slots  chan struct{} // one token per connection served (limits.maxConns)
}

// New creates the daemon of host. inv is the host's inventory (its capabilities and node
// devices); src lists the host's domains at call time and may be nil (no domains).
func New(host string, inv *lab.HostInventory, src DomainSource) *Server {
	s := &Server{
		host:      host,
		inv:       inv,
		src:       src,
		log:       slog.Default().With("component", "libvirtd", "host", host),
		started:   time.Now(),
		byName:    map[string]int{},
		done:      make(chan struct{}),
		listeners: map[net.Listener]struct{}{},
		conns:     map[net.Conn]struct{}{},
		limits:    defaultLimits,
		slots:     make(chan struct{}, defaultLimits.maxConns),
	}
	s.caps, s.capsErr = render.CapabilitiesXML(inv)
	if s.capsErr != nil {
		s.log.Error("cannot render capabilities", "err", s.capsErr)
	}
	root := nodeDevice{name: render.ComputerDevice, cap: "system", flag: listCapSystem}
	root.xml, root.err = render.ComputerDeviceXML(inv)
	s.addDevice(root)
	topo, err := render.HostPCITopology(inv)
	if err != nil {
		s.log.Error("cannot derive the PCI bridges; serving the computer device only", "err", err)
		return s
	}
	for _, b := range topo.Bridges {
		s.addDevice(nodeDevice{name: b.Address.NodeDevName(), parent: render.ComputerDevice, cap: "pci", flag: listCapPCI, xml: render.BridgeXML(b)})
	}
	if inv != nil {
		for i := range inv.Devices {
			d := &inv.Devices[i]
			nd := nodeDevice{name: d.Address.NodeDevName(), parent: topo.Parent(d), cap: "pci", flag: listCapPCI}
			nd.xml, nd.err = render.NodeDeviceXML(inv, topo, d)
			s.addDevice(nd)
		}
	}
	return s
}

// SetLogger sends the daemon's logs to l (default: slog.Default()). Call it before Serve.
func (s *Server) SetLogger(l *slog.Logger) {
	if l != nil {
		s.log = l.With("component", "libvirtd", "host", s.host)
	}
}

func (s *Server) addDevice(nd nodeDevice) {
	if nd.err != nil {
		s.log.Error("cannot render node device", "device", nd.name, "err", nd.err)
	}
	s.byName[nd.name] = len(s.devices)
	s.devices = append(s.devices, nd)
}

// Serve accepts connections on l until l is closed (by Close or by the caller), serving each
// connection in its own goroutine. It returns nil once the listener is closed.
func (s *Server) Serve(l net.Listener) error {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		l.Close()
		return nil
	}
	s.listeners[l] = struct{}{}
	s.mu.Unlock()
	defer func() {
		s.mu.Lock()
		delete(s.listeners, l)
		s.mu.Unlock()
	}()
	s.log.Debug("serving", "addr", l.Addr().String())
	backoff := 10 * time.Millisecond
	for {
		select {
		case s.slots <- struct{}{}:
		case <-s.done:
			return nil
		}
		c, err := l.Accept()
		if err != nil {
			<-s.slots
			if s.isClosed() || errors.Is(err, net.ErrClosed) {
				return nil
			}
			// Transient failures (EMFILE...) must not end the daemon: back off and retry.
			s.log.Warn("accept failed", "err", err, "retry_in", backoff)
			t := time.NewTimer(backoff)
			select {
			case <-t.C:
			case <-s.done:
				t.Stop()
				return nil
			}
			backoff = min(2*backoff, time.Second)
			continue
		}
		backoff = 10 * time.Millisecond
		// The same check-closed-then-register as for the listener above, on purpose: each must
		// happen under the lock that Close takes, or Close could miss what is registered.
		s.mu.Lock()
		if s.closed {
			s.mu.Unlock()
			c.Close()
			<-s.slots
			return nil
		}
		if s.down() {
			s.mu.Unlock()
			c.Close()
			<-s.slots
			continue
		}
		s.conns[c] = struct{}{}
		s.wg.Add(1)
		s.mu.Unlock()
		go s.serveConn(c)
	}
}

func (s *Server) isClosed() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.closed
}

// Close stops every listener and live connection and waits for connection goroutines to end.
func (s *Server) Close() error {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return nil
	}
	s.closed = true
	close(s.done)
	var errs []error
	for l := range s.listeners {
		if err := l.Close(); err != nil && !errors.Is(err, net.ErrClosed) {
			errs = append(errs, fmt.Errorf("close listener %s: %w", l.Addr(), err))
		}
	}
	for c := range s.conns {
		c.Close()
	}
	s.mu.Unlock()
	s.wg.Wait()
	return errors.Join(errs...)
}

// errFrame is a framing violation: the connection cannot be resynchronised and is closed.
type errFrame struct{ msg string }

func (e *errFrame) Error() string { return e.msg }

// readMessage reads one length-prefixed message (header + payload) of at most max bytes after
// the length word. The buffer grows only as bytes arrive, so a hostile length word cannot make
// the daemon allocate up front.
func readMessage(r io.Reader, buf *bytes.Buffer, max uint32) ([]byte, error) {
	var lw [lenSize]byte
	if _, err := io.ReadFull(r, lw[:]); err != nil {
		return nil, err
	}
	n := uint32(lw[0])<<24 | uint32(lw[1])<<16 | uint32(lw[2])<<8 | uint32(lw[3])
	if n < lenSize+headerSize {
		return nil, &errFrame{fmt.Sprintf("message length %d is shorter than length word and header (%d)", n, lenSize+headerSize)}
	}
	if n > lenSize+max {
		return nil, &errFrame{fmt.Sprintf("message length %d exceeds the maximum of %d", n, lenSize+max)}
	}
	buf.Reset()
	if _, err := io.CopyN(buf, r, int64(n-lenSize)); err != nil {
		if errors.Is(err, io.EOF) {
			return nil, &errFrame{fmt.Sprintf("connection closed inside a %d-byte message", n)}
		}
		return nil, err
	}
	return buf.Bytes(), nil
}

func (s *Server) serveConn(c net.Conn) {
	log := s.log.With("peer", c.RemoteAddr().String())
	defer s.wg.Done()
	defer func() {
		s.mu.Lock()
		delete(s.conns, c)
		s.mu.Unlock()
		c.Close()
		<-s.slots
	}()
	// A bug triggered by one client's packet costs that client its connection, never the daemon.
	defer func() {
		if r := recover(); r != nil {
			log.Error("panic while serving a connection; closing it", "panic", r, "stack", string(debug.Stack()))
		}
	}()
	log.Debug("connection opened")
	sess := &session{srv: s, log: log}
	br := bufio.NewReaderSize(c, 64<<10)
	var buf bytes.Buffer
	for {
		msg, err := s.nextCall(c, br, &buf)
		if err != nil {
			var fe *errFrame
			switch {
			case errors.As(err, &fe):
				log.Warn("closing connection on a malformed message", "err", err)
			case errors.Is(err, errIdle):
				log.Info("closing an idle connection", "idle_for", s.limits.idleTimeout)
			case errors.Is(err, os.ErrDeadlineExceeded):
				log.Warn("closing a connection whose call did not arrive in time", "read_timeout", s.limits.readTimeout)
			case errors.Is(err, io.EOF), errors.Is(err, net.ErrClosed):
				log.Debug("connection closed")
			default:
				log.Debug("connection read failed", "err", err)
			}
			return
		}
		if s.dropCall(sess, msg) {
			log.Info("chaos: closing the connection instead of answering a call")
			return
		}
		reply := sess.handle(msg)
		if reply == nil {
			continue
		}
		if err := c.SetWriteDeadline(time.Now().Add(writeTimeout)); err != nil {
			log.Debug("set write deadline", "err", err)
			return
		}
		if _, err := c.Write(reply); err != nil {
			log.Debug("write failed; closing connection", "err", err)
			return
		}
	}
}

// errIdle ends a connection that sent nothing for limits.idleTimeout.
var errIdle = errors.New("connection idle")

// nextCall waits up to idleTimeout for a message to start, then reads it within readTimeout.
func (s *Server) nextCall(c net.Conn, br *bufio.Reader, buf *bytes.Buffer) ([]byte, error) {
	if br.Buffered() == 0 {
		if err := c.SetReadDeadline(time.Now().Add(s.limits.idleTimeout)); err != nil {
			return nil, err
		}
		if _, err := br.Peek(1); err != nil {
			if errors.Is(err, os.ErrDeadlineExceeded) {
				return nil, errIdle
			}
			return nil, err
		}
	}
	if err := c.SetReadDeadline(time.Now().Add(s.limits.readTimeout)); err != nil {
		return nil, err
	}
	return readMessage(br, buf, s.limits.callMax)
}
