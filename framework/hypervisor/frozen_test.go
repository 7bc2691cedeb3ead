package hypervisor

import (
	"context"
	"errors"
	"net"
	"path/filepath"
	"testing"
	"time"
)

// A libvirtd that accepts connections and never answers (a frozen host) must not hang the
// harness: each call gives up at its deadline, a second caller is not stuck behind the first,
// and the error is a lab error.
func TestFrozenLibvirtdGivesUpAtTheDeadline(t *testing.T) {
	sock := filepath.Join(t.TempDir(), "frozen.sock")
	ln, err := net.Listen("unix", sock)
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	held := make(chan net.Conn, 16)
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				close(held)
				return
			}
			held <- c // read nothing, answer nothing
		}
	}()
	in := New(func(string) (string, error) { return "qemu+unix:///system?socket=" + sock, nil })
	for i := range 2 {
		ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
		start := time.Now()
		_, err := in.Capabilities(ctx, "frozen")
		cancel()
		if took := time.Since(start); took > 2*time.Second {
			t.Fatalf("call %d took %s; want it to give up at its 300ms deadline", i+1, took)
		}
		if !errors.Is(err, context.DeadlineExceeded) || !IsPlumbing(err) {
			t.Fatalf("call %d: %v; want a deadline error that IsPlumbing", i+1, err)
		}
	}
	ln.Close()
	for c := range held {
		c.Close()
	}
}
