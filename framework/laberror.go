package framework

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	. "github.com/onsi/ginkgo/v2"
	"github.com/onsi/ginkgo/v2/types"
	. "github.com/onsi/gomega"

	"github.com/hwcert/hwcert/framework/hypervisor"
	"github.com/hwcert/hwcert/framework/openstack"
)

// A spec that fails because the lab's plumbing failed (a boot ERROR other than "No valid host",
// a timeout, a 5xx that outlived the retries, libvirt unreachable) fails as a lab error: its
// failure message starts with LabErrorPrefix and it carries an EntryLabError report entry, so
// the console, the JUnit (failure type LabErrorType) and report.json tell it apart from a
// placement verdict, and `hwcert run --retry-lab-errors` may run it again.
const (
	LabErrorPrefix = "lab error: "
	LabErrorType   = "lab-error"
	EntryLabError  = "hwcert-lab-error"
)

// IsLabError reports whether err is the lab's plumbing failing.
func IsLabError(err error) bool {
	return openstack.IsPlumbing(err) || hypervisor.IsPlumbing(err)
}

// IsLabFailureState reports whether a spec that ended in state with this failure message failed
// as a lab error: marked by FailLab, or stopped by its timeout (the lab did not answer in time).
func IsLabFailureState(state types.SpecState, message string) bool {
	return state == types.SpecStateTimedout || (state.Is(types.SpecStateFailureStates) && strings.HasPrefix(message, LabErrorPrefix))
}

// expectNoError fails the spec when err is set: as a lab error when it is the plumbing's, else
// as an ordinary failure with the explanation.
func expectNoError(err error, what string, args ...any) {
	GinkgoHelper()
	if err == nil {
		return
	}
	if IsLabError(err) {
		FailLab(err, what, args...)
	}
	Expect(err).NotTo(HaveOccurred(), append([]any{what}, args...)...)
}

// FailLab fails the spec as a lab error.
func FailLab(err error, what string, args ...any) {
	GinkgoHelper()
	msg := fmt.Sprintf(what, args...) + ": " + err.Error()
	AddReportEntry(EntryLabError, msg, ReportEntryVisibilityNever)
	labErrorSeen.Store(true)
	Fail(LabErrorPrefix + msg)
}

// labErrorSeen is set by a lab error and cleared by the next spec's look at the lab.
var labErrorSeen atomic.Bool

// labGoneProbe bounds the look at the lab after a lab error: the cloud's retries of one call
// take some ten seconds when nothing listens.
const labGoneProbe = 30 * time.Second

// abortIfLabGone runs before a spec that follows a lab error: when the cloud does not answer
// even the list of its compute hosts, the lab is gone (killed, unreachable), and the run stops
// once with that one lab error instead of failing every remaining spec after its full waits.
func (f *Framework) abortIfLabGone() {
	if !labErrorSeen.Swap(false) {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), labGoneProbe)
	defer cancel()
	if _, err := f.Cloud.Hosts(ctx); err != nil && (IsLabError(err) || ctx.Err() != nil) {
		AbortSuite(fmt.Sprintf("%sthe lab is gone: after a lab error, the cloud does not answer the list of its compute hosts (%v); the remaining specs are not run", LabErrorPrefix, err))
	}
}

// verdictFailures remembers the specs whose attempt failed for another reason than the lab, so
// a rerun (--retry-lab-errors, Ginkgo's flake attempts) repeats their failure instead of giving
// a flaky verdict another chance.
var verdictFailures sync.Map // spec full text -> failure message

// guardRetries runs at the start of every attempt of a spec and records, at its end, why it
// failed.
func guardRetries() {
	r := CurrentSpecReport()
	key := r.FullText()
	if r.NumAttempts > 1 {
		if msg, ok := verdictFailures.Load(key); ok {
			Fail(fmt.Sprintf("not retried: the previous attempt failed on a verdict, not on the lab:\n%s", msg))
		}
	}
	DeferCleanup(func() {
		if r := CurrentSpecReport(); r.Failed() && !IsLabFailureState(r.State, r.Failure.Message) {
			verdictFailures.Store(key, r.Failure.Message)
		}
	})
}
