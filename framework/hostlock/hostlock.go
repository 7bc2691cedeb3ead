// Package hostlock gives one spec a compute host to itself while it runs. Under `ginkgo -p` specs
// run in several processes against one lab; a spec that needs a given host's devices (or its
// whole capacity) must not find them taken by another spec, so every spec that boots onto a host
// holds that host's lock: an flock(2) on a file in a directory the processes share. A lock dies
// with its process, so a killed process never leaves a host locked.
package hostlock

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"syscall"
	"time"
)

// Dir is the directory of lock files one run shares between its processes.
type Dir string

// Lock is a held host lock.
type Lock struct {
	Host string
	fh   *os.File
}

// TryLock takes the named host's lock without waiting; it returns nil, nil when another holder has it.
func (d Dir) TryLock(host string) (*Lock, error) {
	path := filepath.Join(string(d), host+".lock")
	fh, err := os.OpenFile(path, os.O_CREATE|os.O_RDWR, 0o600)
	if err != nil {
		return nil, fmt.Errorf("host lock %s: %w", path, err)
	}
	if err := syscall.Flock(int(fh.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		fh.Close()
		if errors.Is(err, syscall.EWOULDBLOCK) {
			return nil, nil
		}
		return nil, fmt.Errorf("host lock %s: %w", path, err)
	}
	return &Lock{Host: host, fh: fh}, nil
}

// Acquire takes the lock of the first free host of candidates, trying them in order and then
// again every poll interval until one is free or ctx ends. The error at ctx's end names the
// candidates and says it is a timeout.
func (d Dir) Acquire(ctx context.Context, poll time.Duration, candidates []string) (*Lock, error) {
	if len(candidates) == 0 {
		return nil, errors.New("host lock: no candidate host")
	}
	try := func() (*Lock, error) {
		for _, h := range candidates {
			if l, err := d.TryLock(h); l != nil || err != nil {
				return l, err
			}
		}
		return nil, nil
	}
	if l, err := try(); l != nil || err != nil {
		return l, err
	}
	t := time.NewTicker(poll)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil, fmt.Errorf("timed out waiting for one of the hosts %v to be free: %w", candidates, ctx.Err())
		case <-t.C:
			if l, err := try(); l != nil || err != nil {
				return l, err
			}
		}
	}
}

// Release gives the host back.
func (l *Lock) Release() error {
	err := syscall.Flock(int(l.fh.Fd()), syscall.LOCK_UN)
	return errors.Join(err, l.fh.Close())
}

// EntryHold names the report entry a spec adds for every host it held: the run's bound (the
// least wall time the lab's hosts allowed, printed by `hwcert run`) is computed from them.
const EntryHold = "hwcert-hold"

// Hold is what a spec held and for how long.
type Hold struct {
	Host    string  `json:"host"`
	Seconds float64 `json:"seconds"`
}
