package openstack

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// Retry is one call the client repeated (or a token it renewed) because the lab's plumbing
// failed: the spec's timeline shows each, so a pass under a flaky lab is still visible.
type Retry struct {
	Method string `json:"method"`
	URL    string `json:"url"`
	// Kind says what failed: "5xx", "429", "reset", "timeout", "delete-409", "reauth",
	// "create-confirmed" (the create had happened; its answer was lost) or "create-retried".
	Kind string `json:"kind"`
	// Reason is what was seen ("HTTP 503", "connection reset by peer").
	Reason string `json:"reason"`
	// Attempt is the attempt that failed (1 is the first); Wait the backoff before the next.
	Attempt int           `json:"attempt"`
	Wait    time.Duration `json:"wait"`
}

func (r Retry) String() string {
	if r.Kind == "reauth" || strings.HasPrefix(r.Kind, "create-") {
		return fmt.Sprintf("%s %s: %s (%s)", r.Method, r.URL, r.Kind, r.Reason)
	}
	return fmt.Sprintf("%s %s: attempt %d failed (%s: %s), retrying in %s", r.Method, r.URL, r.Attempt, r.Kind, r.Reason, r.Wait.Round(time.Millisecond))
}

// RetryPolicy bounds the retries of one call.
type RetryPolicy struct {
	// Attempts is the most tries of one call (1: no retry).
	Attempts int
	// Backoff is the wait after the first failure, doubled after each (with jitter) up to
	// MaxBackoff.
	Backoff, MaxBackoff time.Duration
	// AttemptTimeout bounds one try: a lab that accepts the connection and never answers is a
	// timeout to retry, not a hang.
	AttemptTimeout time.Duration
}

// DefaultRetryPolicy rides out a lab's short hiccups (a proxy's 503 burst, a dropped
// connection) in about ten seconds, and gives up on a lab that stays down.
var DefaultRetryPolicy = RetryPolicy{Attempts: 6, Backoff: 200 * time.Millisecond, MaxBackoff: 3 * time.Second, AttemptTimeout: 60 * time.Second}

// backoff is the wait after failed attempt n (1-based): exponential with full jitter in its
// upper half, so parallel clients do not retry in step.
func (p RetryPolicy) backoff(n int) time.Duration {
	d := p.Backoff << (n - 1)
	if d > p.MaxBackoff || d <= 0 {
		d = p.MaxBackoff
	}
	return d/2 + rand.N(d/2+1)
}

// retryTransport repeats idempotent requests that failed because of the lab's plumbing: 5xx,
// 429, a connection reset or refused, an attempt that timed out, a 409 on a delete (Nova's
// task state). Other requests go through once: a create is retried by the client only after it
// confirmed by name that nothing was created (see confirmCreate).
type retryTransport struct {
	next   http.RoundTripper
	policy RetryPolicy
	report func(Retry)
}

// idempotent says whether repeating the request cannot do twice what it does once.
func idempotent(r *http.Request) bool {
	switch r.Method {
	case http.MethodGet, http.MethodHead, http.MethodDelete, http.MethodPut, http.MethodOptions:
		return true
	case http.MethodPost:
		// Logging in again, and setting the same extra specs again, have the same result.
		return strings.HasSuffix(r.URL.Path, "/auth/tokens") || strings.HasSuffix(r.URL.Path, "/os-extra_specs")
	}
	return false
}

func (t *retryTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	attempts := t.policy.Attempts
	if !idempotent(req) || (req.Body != nil && req.GetBody == nil) {
		attempts = 1
	}
	for n := 1; ; n++ {
		r := req
		if n > 1 && req.GetBody != nil {
			body, err := req.GetBody()
			if err != nil {
				return nil, err
			}
			r = req.Clone(req.Context())
			r.Body = body
		}
		resp, err := t.attempt(r)
		kind, reason := retryable(req, resp, err)
		if kind == "" || n >= attempts || req.Context().Err() != nil {
			return resp, err
		}
		wait := t.policy.backoff(n)
		if resp != nil {
			if s, perr := strconv.Atoi(resp.Header.Get("Retry-After")); perr == nil && s >= 0 {
				wait = min(time.Duration(s)*time.Second, t.policy.MaxBackoff)
			}
			_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
			resp.Body.Close()
		}
		if t.report != nil {
			t.report(Retry{Method: req.Method, URL: req.URL.String(), Kind: kind, Reason: reason, Attempt: n, Wait: wait})
		}
		timer := time.NewTimer(wait)
		select {
		case <-timer.C:
		case <-req.Context().Done():
			timer.Stop()
			return nil, req.Context().Err()
		}
	}
}

// attempt is one try, bounded by the attempt timeout; the timeout stays in force until the
// body is read and closed.
func (t *retryTransport) attempt(r *http.Request) (*http.Response, error) {
	if t.policy.AttemptTimeout <= 0 {
		return t.next.RoundTrip(r)
	}
	ctx, cancel := context.WithTimeoutCause(r.Context(), t.policy.AttemptTimeout, errAttemptTimeout)
	resp, err := t.next.RoundTrip(r.WithContext(ctx))
	if err != nil {
		cancel()
		if context.Cause(ctx) == errAttemptTimeout && r.Context().Err() == nil {
			return nil, fmt.Errorf("%s %s: no answer within %s: %w", r.Method, r.URL, t.policy.AttemptTimeout, errAttemptTimeout)
		}
		return nil, err
	}
	resp.Body = &cancelOnClose{ReadCloser: resp.Body, cancel: cancel}
	return resp, nil
}

var errAttemptTimeout = errors.New("attempt timed out")

type cancelOnClose struct {
	io.ReadCloser
	cancel context.CancelFunc
}

func (c *cancelOnClose) Close() error {
	err := c.ReadCloser.Close()
	c.cancel()
	return err
}

// retryable classifies an attempt's outcome: the kind of plumbing failure, or "" for an answer
// to keep (success, or an error that says something about the request).
func retryable(req *http.Request, resp *http.Response, err error) (kind, reason string) {
	if err != nil {
		switch {
		case req.Context().Err() != nil:
			return "", ""
		case errors.Is(err, errAttemptTimeout):
			return "timeout", err.Error()
		case isConnectionFailure(err):
			return "reset", err.Error()
		}
		return "", ""
	}
	switch {
	case resp.StatusCode == http.StatusTooManyRequests:
		return "429", resp.Status
	case resp.StatusCode == http.StatusInternalServerError, resp.StatusCode == http.StatusBadGateway,
		resp.StatusCode == http.StatusServiceUnavailable, resp.StatusCode == http.StatusGatewayTimeout:
		return "5xx", resp.Status
	case resp.StatusCode == http.StatusConflict && req.Method == http.MethodDelete:
		return "delete-409", resp.Status
	}
	return "", ""
}

// isConnectionFailure is a connection that was refused, reset or closed before an answer.
func isConnectionFailure(err error) bool {
	if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, syscall.ECONNRESET) ||
		errors.Is(err, syscall.ECONNREFUSED) || errors.Is(err, syscall.EPIPE) {
		return true
	}
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() {
		return true
	}
	var oe *net.OpError
	return errors.As(err, &oe)
}

// IsPlumbing reports whether err is the lab's plumbing failing rather than an answer about the
// request: a connection that failed, an attempt without an answer, a 5xx or 429 that outlived
// the retries, a wait that reached its deadline, or a boot that ended ERROR with a fault other
// than "No valid host" (a spawn failure on the host). Such a failure is a lab error, not a
// verdict about the build under test.
func IsPlumbing(err error) bool {
	if err == nil {
		return false
	}
	if be, ok := AsBootError(err); ok {
		return !strings.Contains(be.Fault.Message, "No valid host was found")
	}
	var te *TimeoutError
	if errors.As(err, &te) {
		return true
	}
	if ae, ok := AsAPIError(err); ok {
		return ae.Status >= 500 || ae.Status == http.StatusTooManyRequests || (ae.Status == http.StatusConflict && ae.Method == http.MethodDelete)
	}
	return errors.Is(err, errAttemptTimeout) || isConnectionFailure(err)
}
