package framework

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"syscall"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/hwcert/hwcert/framework/inventory"
)

// AcquireHost gives the spec one of the candidate hosts to itself until it ends, and returns its
// name. Under `ginkgo -p` specs run in several processes against one lab; a spec that needs a
// given host's devices (or its whole capacity) must not find them taken by another spec, so
// every spec that boots onto a host holds that host's lock (an flock(2) on a file shared by the
// processes). The release is registered before any server of the spec exists, so it runs after
// their deletion (cleanups run in reverse order). With no candidates the spec is skipped.
func (f *Framework) AcquireHost(ctx context.Context, reason string, candidates ...string) string {
	GinkgoHelper()
	if len(candidates) == 0 {
		Skip("no host of the lab can " + reason)
	}
	// Start at a different candidate on each process so parallel specs spread over the hosts.
	start := GinkgoParallelProcess() % len(candidates)
	order := append(append([]string{}, candidates[start:]...), candidates[:start]...)

	try := func() (string, *os.File, error) {
		for _, h := range order {
			fh, err := tryLock(filepath.Join(env.lockDir, h+".lock"))
			if err != nil {
				return "", nil, err
			}
			if fh != nil {
				return h, fh, nil
			}
		}
		return "", nil, nil
	}
	host, fh, err := try()
	Expect(err).NotTo(HaveOccurred(), "locking a host")
	if fh == nil {
		t := time.NewTicker(f.Cloud.PollInterval())
		defer t.Stop()
		for fh == nil {
			select {
			case <-ctx.Done():
				Fail(fmt.Sprintf("waiting for one of the hosts %v to be free (to %s): %v", candidates, reason, ctx.Err()))
			case <-t.C:
				host, fh, err = try()
				Expect(err).NotTo(HaveOccurred(), "locking a host")
			}
		}
	}
	DeferCleanup(func() error { return unlock(fh) })
	return host
}

// tryLock takes an exclusive lock on path without waiting; it returns nil, nil when another
// holder has it.
func tryLock(path string) (*os.File, error) {
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
	return fh, nil
}

func unlock(fh *os.File) error {
	err := syscall.Flock(int(fh.Fd()), syscall.LOCK_UN)
	return errors.Join(err, fh.Close())
}

// HostWhere acquires a host satisfying pred (see AcquireHost); the spec is skipped, saying that
// no host of the lab can do what reason says, when none does.
func (f *Framework) HostWhere(ctx context.Context, reason string, pred func(h *inventory.Host) bool) string {
	GinkgoHelper()
	return f.AcquireHost(ctx, reason, f.Inventory.HostsWhere(pred)...)
}
