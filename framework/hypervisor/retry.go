package hypervisor

import (
	"context"
	"errors"
	"fmt"
	"time"
)

// Bounds of the retries of one call: a libvirtd that restarts comes back within seconds, and a
// lab whose libvirt stays unreachable longer is a lab error, not something to wait out.
const (
	retryAttempts   = 6
	retryBackoff    = 100 * time.Millisecond
	retryMaxBackoff = 2 * time.Second
)

// RetryKind is the Kind of every libvirt retry.
const RetryKind = "libvirt-reconnect"

// Retry is one libvirt call run again on a new connection after the last one failed on the
// plumbing. Its JSON shares the field names of the cloud client's retries.
type Retry struct {
	Host string `json:"host"`
	Kind string `json:"kind"`
	// Reason is the error of the failed attempt.
	Reason string `json:"reason"`
	// Attempt is the attempt that failed (1 is the first); Wait the backoff before the next.
	Attempt int           `json:"attempt"`
	Wait    time.Duration `json:"wait"`
}

func (r Retry) String() string {
	return fmt.Sprintf("libvirt of %s: attempt %d failed (%s), reconnecting in %s", r.Host, r.Attempt, r.Reason, r.Wait.Round(time.Millisecond))
}

// retryable reports whether a failed call is worth running again: the plumbing failed, and not
// by the call running out of time (a frozen libvirtd would only make each attempt wait again).
func retryable(err error) bool {
	return IsPlumbing(err) && !errors.Is(err, errCallAbandoned) && !errors.Is(err, context.DeadlineExceeded) && !errors.Is(err, context.Canceled)
}
