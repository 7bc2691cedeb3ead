package libvirtd

import (
	"encoding/binary"
	"errors"
	"io"
	"log/slog"
	"net"
	"os"
	"runtime"
	"syscall"
	"testing"
	"time"
)

// limitedDaemon serves the aio host on loopback TCP with limits l.
func limitedDaemon(t *testing.T, l limits) (*Server, string) {
	t.Helper()
	srv := New("controller-0", aioInventory(t), nil)
	srv.SetLogger(slog.New(slog.DiscardHandler))
	srv.limits = l
	srv.slots = make(chan struct{}, l.maxConns)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go func() { _ = srv.Serve(ln) }()
	t.Cleanup(func() { _ = srv.Close() })
	return srv, ln.Addr().String()
}

// awaitEOF reads until the daemon closes the connection, failing past within.
func awaitEOF(t *testing.T, c net.Conn, within time.Duration, what string) {
	t.Helper()
	if err := c.SetReadDeadline(time.Now().Add(within)); err != nil {
		t.Fatal(err)
	}
	// A reset is a close too: the daemon closed with the client's bytes still unread.
	if _, err := io.Copy(io.Discard, c); err != nil && !errors.Is(err, syscall.ECONNRESET) {
		t.Fatalf("%s: the daemon did not close the connection within %s: %v", what, within, err)
	}
}

// A connection that sends nothing is closed after the idle timeout, and one that starts a call
// and stalls after the read timeout: neither pins the daemon's memory or goroutine.
func TestIdleAndStalledConnectionsAreClosed(t *testing.T) {
	_, addr := limitedDaemon(t, limits{maxConns: 4, callMax: defaultLimits.callMax, readTimeout: 100 * time.Millisecond, idleTimeout: 200 * time.Millisecond})
	idle := dialRaw(t, "tcp", addr)
	idle.open() // an opened connection, then silence
	awaitEOF(t, idle.c, 5*time.Second, "idle connection")

	stalled := dialRaw(t, "tcp", addr)
	stalled.write(append(binary.BigEndian.AppendUint32(nil, 1000), make([]byte, 100)...))
	awaitEOF(t, stalled.c, 5*time.Second, "connection stalled inside a call")

	// A client that keeps calling within the idle timeout is never cut off.
	busy := dialRaw(t, "tcp", addr)
	busy.open()
	for range 5 {
		time.Sleep(100 * time.Millisecond)
		busy.call(procConnectGetHostname, nil)
	}
}

// Past maxConns a new connection is not served until one ends; the daemon never holds more.
func TestConnectionsAreBounded(t *testing.T) {
	_, addr := limitedDaemon(t, limits{maxConns: 2, callMax: defaultLimits.callMax, readTimeout: time.Minute, idleTimeout: time.Minute})
	first, second := dialRaw(t, "tcp", addr), dialRaw(t, "tcp", addr)
	first.open()
	second.open()
	third := dialRaw(t, "tcp", addr) // accepted by the kernel, not by the daemon
	third.write(frame(header{Prog: remoteProgram, Vers: remoteVersion, Proc: procAuthList, Type: typeCall, Serial: 1}, nil))
	if err := third.c.SetReadDeadline(time.Now().Add(300 * time.Millisecond)); err != nil {
		t.Fatal(err)
	}
	if _, err := third.c.Read(make([]byte, 1)); !errors.Is(err, os.ErrDeadlineExceeded) {
		t.Fatalf("a third connection past the limit of 2 was answered (read: %v)", err)
	}
	first.c.Close()
	if h, _, err := third.read(); err != nil || h.Type != typeReply || h.Serial != 1 {
		t.Fatalf("the waiting connection after one closed: %v %v; want the reply to its call", h, err)
	}
}

// Clients announcing libvirt's largest frame (32 MiB) each cost the daemon nothing: the length
// word alone closes the connection. (8 such clients once took the mock to 880 MB.)
func TestHugeFramesCostNothing(t *testing.T) {
	_, addr := limitedDaemon(t, defaultLimits)
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	body := make([]byte, 1<<20)
	for range 8 {
		c, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		if _, err := c.Write(binary.BigEndian.AppendUint32(nil, lenSize+messageMax)); err != nil {
			t.Fatal(err)
		}
		_, _ = c.Write(body) // may fail: the daemon closes at the length word
		awaitEOF(t, c, 5*time.Second, "32 MiB frame")
	}
	runtime.ReadMemStats(&after)
	t.Logf("heap in use after 8 clients announcing 32 MiB frames: %+d KiB", (int64(after.HeapInuse)-int64(before.HeapInuse))/1024)
}
