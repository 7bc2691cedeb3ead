package libvirtd

import (
	"bytes"
	"encoding/binary"
	"errors"
	"io"
	"log/slog"
	"net"
	"strings"
	"testing"
	"time"

	"libvirt.org/go/libvirt"
)

// rawClient speaks the wire protocol directly, to test what the libvirt client never sends.
type rawClient struct {
	t      testing.TB
	c      net.Conn
	serial uint32
}

func dialRaw(t testing.TB, network, addr string) *rawClient {
	t.Helper()
	c, err := net.Dial(network, addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return &rawClient{t: t, c: c}
}

func (r *rawClient) write(b []byte) {
	r.t.Helper()
	if _, err := r.c.Write(b); err != nil {
		r.t.Fatalf("write: %v", err)
	}
}

// read returns the next message, or the error that ended the connection.
func (r *rawClient) read() (header, []byte, error) {
	if err := r.c.SetReadDeadline(time.Now().Add(10 * time.Second)); err != nil {
		return header{}, nil, err
	}
	var buf bytes.Buffer
	msg, err := readMessage(r.c, &buf, messageMax)
	if err != nil {
		return header{}, nil, err
	}
	return parseHeader(msg), bytes.Clone(msg[headerSize:]), nil
}

// call sends one remote-program call and returns the reply header and payload.
func (r *rawClient) call(proc int32, args func(e *encoder)) (header, *decoder) {
	r.t.Helper()
	e := &encoder{}
	if args != nil {
		args(e)
	}
	r.serial++
	r.write(frame(header{Prog: remoteProgram, Vers: remoteVersion, Proc: proc, Type: typeCall, Serial: r.serial}, e.b))
	h, p, err := r.read()
	if err != nil {
		r.t.Fatalf("reading the reply to proc %d: %v", proc, err)
	}
	if h.Type != typeReply || h.Serial != r.serial || h.Proc != proc || h.Prog != remoteProgram {
		r.t.Fatalf("reply header %s does not answer proc %d serial %d", h, proc, r.serial)
	}
	return h, &decoder{b: p}
}

func (r *rawClient) open() {
	r.t.Helper()
	r.call(procAuthList, nil)
	if h, _ := r.call(procConnectOpen, func(e *encoder) { e.optString(nil); e.uint32(0) }); h.Status != statusOK {
		r.t.Fatalf("CONNECT_OPEN failed: %s", h)
	}
}

// decodeError reads remote_error from an error reply.
func decodeError(t testing.TB, h header, d *decoder) rpcError {
	t.Helper()
	if h.Status != statusError {
		t.Fatalf("status = %d, want an error reply", h.Status)
	}
	code, domain := d.int32(), d.int32()
	msg := d.optString(stringMax)
	level := d.int32()
	if d.bool() {
		t.Fatal("remote_error.dom is set")
	}
	for i := 0; i < 3; i++ {
		d.optString(stringMax)
	}
	d.int32()
	d.int32()
	d.bool()
	if err := d.finish(); err != nil {
		t.Fatalf("remote_error does not decode: %v", err)
	}
	if msg == nil || level != levelError {
		t.Fatalf("remote_error message %v level %d", msg, level)
	}
	return rpcError{code, domain, *msg}
}

func TestRawKeepalive(t *testing.T) {
	d := startDaemon(t)
	r := dialRaw(t, "unix", d.sock)
	for feature, want := range map[int32]int32{featureProgramKeepalive: 1, featureRemoteEventCallback: 0, featureRemoteCloseCallback: 0, featureTypedParamString: 1, 8: 0} {
		_, dec := r.call(procConnectSupportsFeature, func(e *encoder) { e.int32(feature) })
		if got := dec.int32(); got != want || dec.finish() != nil {
			t.Errorf("SUPPORTS_FEATURE(%d) = %d, want %d", feature, got, want)
		}
	}
	r.open()
	// We said keepalive is supported, so a PING must get a PONG: type MESSAGE, serial 0, no body.
	r.write(frame(header{Prog: keepaliveProg, Vers: keepaliveVers, Proc: keepalivePing, Type: typeMessage}, nil))
	h, p, err := r.read()
	if err != nil {
		t.Fatal(err)
	}
	want := header{Prog: keepaliveProg, Vers: keepaliveVers, Proc: keepalivePong, Type: typeMessage}
	if h != want || len(p) != 0 {
		t.Errorf("answer to PING = %s with %d bytes, want %s and no payload", h, len(p), want)
	}
	// A PONG (or anything else on the keepalive program) gets no answer: the next message read is
	// the reply to the following call.
	r.write(frame(header{Prog: keepaliveProg, Vers: keepaliveVers, Proc: keepalivePong, Type: typeMessage}, nil))
	if _, dec := r.call(procConnectGetHostname, nil); dec.string(stringMax) != "controller-0" {
		t.Error("hostname after PONG")
	}
}

func TestRawConnectionState(t *testing.T) {
	d := startDaemon(t)
	r := dialRaw(t, "tcp", d.tcpAddr)
	h, dec := r.call(procConnectGetHostname, nil)
	if e := decodeError(t, h, dec); e.Code != errInternal || e.Message != "internal error: connection not open" {
		t.Errorf("call before CONNECT_OPEN: %+v", e)
	}
	r.open()
	if h, dec := r.call(procConnectGetURI, nil); h.Status != statusOK || dec.string(stringMax) != "qemu:///system" {
		t.Error("GET_URI")
	}
	if h, _ := r.call(procConnectClose, nil); h.Status != statusOK {
		t.Error("CONNECT_CLOSE failed")
	}
	h, dec = r.call(procConnectGetHostname, nil)
	if e := decodeError(t, h, dec); e.Code != errInternal {
		t.Errorf("call after CONNECT_CLOSE: %+v", e)
	}
}

func TestRawNodeDeviceGetParent(t *testing.T) {
	d := startDaemon(t)
	r := dialRaw(t, "unix", d.sock)
	r.open()
	parent := func(name string) (header, *decoder) {
		return r.call(procNodeDeviceGetParent, func(e *encoder) { e.string(name) })
	}
	for dev, want := range map[string]string{"pci_0000_3d_01_2": "pci_0000_00_01_0", "pci_0000_00_01_0": "computer"} {
		_, dec := parent(dev)
		if p := dec.optString(stringMax); p == nil || *p != want || dec.finish() != nil {
			t.Errorf("parent of %s = %v, want %s", dev, p, want)
		}
	}
	_, dec := parent("computer")
	if p := dec.optString(stringMax); p != nil || dec.finish() != nil {
		t.Errorf("parent of computer = %v, want none", *p)
	}
	h, dec := parent("nosuch")
	if e := decodeError(t, h, dec); e.Code != errNoNodeDevice || e.Domain != fromNodeDev {
		t.Errorf("parent of an unknown device: %+v", e)
	}
}

// Malformed arguments get an RPC error reply; the connection stays usable.
func TestRawMalformedCalls(t *testing.T) {
	d := startDaemon(t)
	r := dialRaw(t, "unix", d.sock)
	r.open()
	cases := []struct {
		name string
		proc int32
		args func(e *encoder)
	}{
		{"string longer than the message", procDomainLookupByName, func(e *encoder) { e.uint32(1000) }},
		{"string over the protocol limit", procDomainLookupByName, func(e *encoder) { e.uint32(0xffffffff) }},
		{"missing argument", procDomainGetXMLDesc, func(e *encoder) { e.string(activeName) }},
		{"trailing bytes", procConnectGetHostname, func(e *encoder) { e.uint32(7) }},
		{"optional with a bad discriminant", procNodeNumOfDevices, func(e *encoder) { e.uint32(2); e.uint32(0) }},
		{"truncated uuid", procDomainLookupByUUID, func(e *encoder) { e.fixedOpaque([]byte{1, 2, 3}) }},
	}
	for _, tc := range cases {
		h, dec := r.call(tc.proc, tc.args)
		if e := decodeError(t, h, dec); e.Code != errRPC || e.Domain != fromRPC || !strings.HasPrefix(e.Message, "Unable to decode message payload") {
			t.Errorf("%s: %+v", tc.name, e)
		}
	}
	// An unknown program is answered with an error that echoes it.
	r.serial++
	r.write(frame(header{Prog: 0x12345678, Vers: 1, Proc: 1, Type: typeCall, Serial: r.serial}, nil))
	h, p, err := r.read()
	if err != nil || h.Prog != 0x12345678 || h.Serial != r.serial || h.Status != statusError {
		t.Fatalf("unknown program: %s %v", h, err)
	}
	if e := decodeError(t, h, &decoder{b: p}); e.Code != errRPC {
		t.Errorf("unknown program: %+v", e)
	}
	// A message that is not a call is ignored.
	r.write(frame(header{Prog: remoteProgram, Vers: remoteVersion, Proc: 1, Type: typeReply, Serial: 99}, nil))
	if h, dec := r.call(procConnectGetHostname, nil); h.Status != statusOK || dec.string(stringMax) != "controller-0" {
		t.Error("connection unusable after malformed calls")
	}
}

// Hostile framing closes that connection and only that one: a libvirt client on another
// connection keeps working and new connections are accepted.
func TestHostilePacketsCloseOnlyTheirConnection(t *testing.T) {
	d := startDaemon(t)
	good := connect(t, d.unixURI)
	lengthWord := func(n uint32) []byte { return binary.BigEndian.AppendUint32(nil, n) }
	cases := []struct {
		name      string
		data      []byte
		closeSend bool // half-close after sending, as a client dying mid-message
	}{
		{"zero length", lengthWord(0), false},
		{"length shorter than the header", append(lengthWord(20), make([]byte, 16)...), false},
		{"huge length", lengthWord(0xffffffff), false},
		{"negative length", lengthWord(0x80000000), false},
		{"just over the maximum", lengthWord(lenSize + defaultLimits.callMax + 1), false},
		{"libvirt's 32 MiB maximum", lengthWord(lenSize + messageMax), false},
		{"ascii garbage", []byte("GET / HTTP/1.1\r\nHost: x\r\n\r\n"), false},
		{"truncated header", append(lengthWord(28), 0x20, 0, 0x80, 0x86, 0, 0, 0), true},
		{"truncated payload", append(lengthWord(1000), make([]byte, 100)...), true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := dialRaw(t, "unix", d.sock)
			r.write(tc.data)
			if tc.closeSend {
				if err := r.c.(*net.UnixConn).CloseWrite(); err != nil {
					t.Fatal(err)
				}
			}
			if _, _, err := r.read(); !errors.Is(err, io.EOF) {
				t.Errorf("after %s: read = %v, want the server to close the connection (EOF)", tc.name, err)
			}
			if h, err := good.GetHostname(); err != nil || h != "controller-0" {
				t.Errorf("the other connection broke: %q, %v", h, err)
			}
			dom, err := good.LookupDomainByName(activeName)
			if err != nil {
				t.Fatalf("the other connection broke: %v", err)
			}
			dom.Free()
		})
	}
	fresh := connect(t, d.tcpURI)
	if _, err := fresh.GetCapabilities(); err != nil {
		t.Errorf("new connection after hostile clients: %v", err)
	}
}

// panickySource is a DomainSource with a bug.
type panickySource struct{}

func (panickySource) Domains() []Domain { panic("domain source bug") }

// A panic while serving one connection closes that connection, never the daemon.
func TestPanicClosesOnlyThatConnection(t *testing.T) {
	inv := aioInventory(t)
	srv := New("controller-0", inv, panickySource{})
	srv.SetLogger(slog.New(slog.DiscardHandler)) // the expected panic's stack is noise here
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	served := make(chan error, 1)
	go func() { served <- srv.Serve(l) }()
	uri := "qemu+tcp://" + l.Addr().String() + "/system"
	c := connect(t, uri)
	if _, err := c.LookupDomainByName("x"); err == nil {
		t.Fatal("lookup through a panicking source succeeded")
	}
	other := connect(t, uri)
	if caps, err := other.GetCapabilities(); err != nil || !strings.Contains(caps, "<cells num='2'>") {
		t.Errorf("daemon unusable after a panic: %v", err)
	}
	if err := srv.Close(); err != nil {
		t.Fatal(err)
	}
	if err := <-served; err != nil {
		t.Errorf("Serve = %v after Close", err)
	}
}

func TestCloseEndsLiveConnections(t *testing.T) {
	srv := New("controller-0", aioInventory(t), nil)
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	served := make(chan error, 1)
	go func() { served <- srv.Serve(l) }()
	r := dialRaw(t, "tcp", l.Addr().String())
	r.open()
	if err := srv.Close(); err != nil {
		t.Fatal(err)
	}
	if err := <-served; err != nil {
		t.Errorf("Serve = %v after Close, want nil", err)
	}
	if _, _, err := r.read(); !errors.Is(err, io.EOF) {
		t.Errorf("live connection after Close: read = %v, want EOF", err)
	}
	if err := srv.Serve(l); err != nil {
		t.Errorf("Serve on a closed server = %v, want nil", err)
	}
	if _, err := libvirt.NewConnect("qemu+tcp://" + l.Addr().String() + "/system"); err == nil {
		t.Error("connected to a closed daemon")
	}
}

func TestXDRRoundTrip(t *testing.T) {
	e := &encoder{}
	s := "instance-00000001" // 17 bytes: 3 bytes of padding
	e.string(s)
	e.fixedOpaque([]byte{1, 2, 3, 4, 5})
	e.optString(nil)
	e.optString(&s)
	e.uint64(1 << 40)
	e.int32(-1)
	e.bool(true)
	if len(e.b)%4 != 0 || len(e.b) != 4+20+8+4+4+4+20+8+4+4 {
		t.Fatalf("encoded %d bytes", len(e.b))
	}
	d := &decoder{b: e.b}
	if got := d.string(100); got != s {
		t.Errorf("string = %q", got)
	}
	if got := d.fixedOpaque(5); !bytes.Equal(got, []byte{1, 2, 3, 4, 5}) {
		t.Errorf("opaque = %v", got)
	}
	if got := d.optString(100); got != nil {
		t.Errorf("absent optional = %v", got)
	}
	if got := d.optString(100); got == nil || *got != s {
		t.Errorf("present optional = %v", got)
	}
	if d.uint64() != 1<<40 || d.int32() != -1 || !d.bool() {
		t.Error("integers")
	}
	if err := d.finish(); err != nil {
		t.Error(err)
	}
	short := &decoder{b: e.b[:10]}
	short.string(100)
	if short.finish() == nil {
		t.Error("short message decoded")
	}
	limited := &decoder{b: e.b}
	limited.string(5)
	if err := limited.finish(); err == nil || !strings.Contains(err.Error(), "exceeds the limit of 5") {
		t.Errorf("limit: %v", err)
	}
}

// fuzzServer is one daemon shared by fuzz iterations (its state is read-only).
func fuzzServer(f *testing.F) *Server {
	inv := aioInventory(f)
	s := New("controller-0", inv, newSource(f, inv))
	s.SetLogger(slog.New(slog.DiscardHandler))
	return s
}

func seedCall(proc int32, args func(e *encoder)) []byte {
	e := &encoder{}
	if args != nil {
		args(e)
	}
	return frame(header{Prog: remoteProgram, Vers: remoteVersion, Proc: proc, Type: typeCall, Serial: 5}, e.b)[lenSize:]
}

// FuzzHandle feeds arbitrary messages (header + payload) to the dispatcher and its XDR decoder:
// it must never panic, and every call must get exactly one well-formed reply with its serial.
func FuzzHandle(f *testing.F) {
	srv := fuzzServer(f)
	f.Add(seedCall(procDomainLookupByName, func(e *encoder) { e.string(activeName) }))
	f.Add(seedCall(procDomainGetXMLDesc, func(e *encoder) {
		e.string(activeName)
		u, _ := parseUUID(activeUUID)
		e.fixedOpaque(u[:])
		e.int32(42)
		e.uint32(0)
	}))
	f.Add(seedCall(procConnectListAllDomains, func(e *encoder) { e.int32(1); e.uint32(3) }))
	f.Add(seedCall(procConnectListAllNodeDevices, func(e *encoder) { e.int32(1); e.uint32(0x80000002) }))
	f.Add(seedCall(procNodeListDevices, func(e *encoder) { s := "pci"; e.optString(&s); e.int32(100); e.uint32(0) }))
	f.Add(seedCall(procConnectOpen, func(e *encoder) { e.optString(nil); e.uint32(0) }))
	f.Add(seedCall(procNodeDeviceGetXMLDesc, func(e *encoder) { e.string("pci_0000_3d_00_0"); e.uint32(0) }))
	f.Fuzz(func(t *testing.T, msg []byte) {
		if len(msg) < headerSize {
			return
		}
		for _, opened := range []bool{false, true} {
			sess := &session{srv: srv, log: srv.log, opened: opened}
			out := sess.handle(msg)
			in := parseHeader(msg)
			if out == nil {
				if in.Type == typeCall && in.Prog != keepaliveProg {
					t.Fatalf("call %s got no reply", in)
				}
				continue
			}
			if n := binary.BigEndian.Uint32(out); int(n) != len(out) || len(out) < lenSize+headerSize {
				t.Fatalf("reply length word %d for %d bytes", n, len(out))
			}
			rh := parseHeader(out[lenSize:])
			if in.Prog != keepaliveProg && (rh.Serial != in.Serial || rh.Proc != in.Proc || rh.Type != typeReply) {
				t.Fatalf("reply %s does not answer %s", rh, in)
			}
		}
	})
}

// FuzzReadMessage checks the framing: any byte stream yields a bounded message or an error.
func FuzzReadMessage(f *testing.F) {
	f.Add(seedCall(procAuthList, nil))
	f.Add([]byte{0, 0, 0, 0})
	f.Add([]byte{0xff, 0xff, 0xff, 0xff, 1, 2})
	f.Fuzz(func(t *testing.T, data []byte) {
		var buf bytes.Buffer
		msg, err := readMessage(bytes.NewReader(data), &buf, defaultLimits.callMax)
		if err == nil && (len(msg) < headerSize || len(msg) > int(defaultLimits.callMax) || len(msg)+lenSize > len(data)) {
			t.Fatalf("message of %d bytes from %d bytes of input", len(msg), len(data))
		}
	})
}
