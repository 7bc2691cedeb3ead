package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"sync/atomic"
	"syscall"

	. "github.com/onsi/ginkgo/v2"
)

// Signals are caught from the first instant of the process, not only once Ginkgo installs its
// own handler inside RunSpecs: a Ctrl-C in between used to cancel a context nobody looked at,
// and the run went on to its end. The first SIGINT or SIGTERM cancels the command's context (a
// run not yet started does not start; a running one cleans up through Ginkgo, which sees the
// same signal); a second one exits at once, saying what may be left and how to remove it.

// exitInterrupted is the exit code of a process ended by a second signal (128 + SIGINT).
const exitInterrupted = 130

// errInterrupted is the cause of a context cancelled by a signal.
var errInterrupted = errors.New("interrupted")

// leftBehind is what a second signal says may be left; each command sets its own.
var leftBehind atomic.Pointer[string]

// onSecondSignal sets what a second signal prints before the process exits.
func onSecondSignal(msg string) { leftBehind.Store(&msg) }

// catchSignals returns a context cancelled by the first SIGINT or SIGTERM, and the function that
// stops catching them.
func catchSignals(w io.Writer) (context.Context, func()) {
	ctx, cancel := context.WithCancelCause(context.Background())
	ch := make(chan os.Signal, 2)
	signal.Notify(ch, os.Interrupt, syscall.SIGTERM)
	done := make(chan struct{})
	go func() {
		for n := 1; ; n++ {
			var sig os.Signal
			select {
			case sig = <-ch:
			case <-done:
				return
			}
			if n == 1 {
				fmt.Fprintf(w, "\nhwcert: %s: stopping and cleaning up (a second one exits at once)\n", sig)
				cancel(fmt.Errorf("%w (%s)", errInterrupted, sig))
				continue
			}
			msg := "hwcert: interrupted again: exiting now"
			if p := leftBehind.Load(); p != nil {
				msg += "; " + *p
			}
			fmt.Fprintln(w, msg)
			os.Exit(exitInterrupted)
		}
	}()
	return ctx, func() {
		signal.Stop(ch)
		close(done)
		cancel(nil)
	}
}

// interruptedBeforeStart is the error of a run whose first signal came before any spec ran.
func interruptedBeforeStart(ctx context.Context) error {
	return &exitError{code: exitUsage, err: fmt.Errorf("%w before the run started; nothing was created", context.Cause(ctx))}
}

// refuseToStartIfInterrupted fails the suite before its setup when the signal came while
// RunSpecs was starting, before Ginkgo's handler was there to see it: no spec runs, nothing is
// created, and the reports are still written.
func refuseToStartIfInterrupted(ctx context.Context) {
	ReportBeforeSuite(func(Report) {
		if ctx.Err() != nil {
			Fail(interruptedBeforeStart(ctx).Error())
		}
	})
}

// leftBehindMessage says what a run ended at once may leave and how to remove it.
func leftBehindMessage(configFile string) string {
	if configFile == "" {
		return "the embedded mock lab ends with this process, and what the run created with it"
	}
	return fmt.Sprintf("servers and flavors this run created and had not deleted yet are left in the lab; "+
		"`hwcert cleanup --config %s` removes them once the run's host leases expire (the next run's sweep does too, once they are older than timeouts.sweep_after)", configFile)
}
