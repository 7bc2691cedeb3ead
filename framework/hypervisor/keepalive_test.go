package hypervisor

import (
	"context"
	"io"
	"net"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"
)

// freezer forwards a unix socket to another and, once frozen, stops forwarding either way while
// keeping the connections open: a host that froze, or an ssh link that stalls.
type freezer struct{ frozen atomic.Bool }

func (f *freezer) pipe(dst, src net.Conn) {
	buf := make([]byte, 32<<10)
	for {
		n, err := src.Read(buf)
		for f.frozen.Load() {
			time.Sleep(10 * time.Millisecond)
		}
		if n > 0 {
			if _, werr := dst.Write(buf[:n]); werr != nil {
				return
			}
		}
		if err != nil {
			if err != io.EOF {
				_ = dst.Close()
			}
			return
		}
	}
}

// TestKeepaliveDeclaresAFrozenHostDead: with a host that stops answering mid-run, a call with a
// long deadline fails once the keepalive gives up, instead of waiting for that deadline.
func TestKeepaliveDeclaresAFrozenHostDead(t *testing.T) {
	keepAliveInterval, keepAliveCount = 1, 2
	t.Cleanup(func() { keepAliveInterval, keepAliveCount = 5, 3 })
	real := serveAIO(t, nil)
	proxied := filepath.Join(t.TempDir(), "proxy.sock")
	pln, err := net.Listen("unix", proxied)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = pln.Close() })
	f := &freezer{}
	go func() {
		for {
			c, err := pln.Accept()
			if err != nil {
				return
			}
			up, err := net.Dial("unix", real)
			if err != nil {
				_ = c.Close()
				continue
			}
			go f.pipe(up, c)
			go f.pipe(c, up)
		}
	}()
	t.Cleanup(func() { f.frozen.Store(false) })

	in := New(func(string) (string, error) { return "qemu+unix:///system?socket=" + proxied, nil })
	t.Cleanup(func() { _ = in.Close() })
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if _, err := in.Capabilities(ctx, "controller-0"); err != nil {
		t.Fatalf("before the freeze: %v", err)
	}
	// The first attempt failing shows as a retry report; without keepalive it would wait for
	// the call's deadline instead (the reconnects after it hang in the frozen handshake).
	failed := make(chan time.Time, 1)
	in.OnRetry(func(Retry) {
		select {
		case failed <- time.Now():
		default:
		}
	})
	f.frozen.Store(true)
	start := time.Now()
	one, cancelOne := context.WithTimeout(context.Background(), 40*time.Second)
	defer cancelOne()
	go func() { _, _ = in.Capabilities(one, "controller-0") }()
	select {
	case at := <-failed:
		t.Logf("keepalive declared the frozen host dead after %s", at.Sub(start).Round(100*time.Millisecond))
	case <-one.Done():
		t.Fatal("the call to a frozen host waited for its deadline: keepalive did not declare the host dead")
	}
}
