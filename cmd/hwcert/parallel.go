package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"slices"
	"strconv"
	"sync"
	"syscall"

	"github.com/onsi/ginkgo/v2/types"
	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/hwcert/hwcert/config"
	"github.com/hwcert/hwcert/framework/openstack"
)

// `hwcert run --procs N` runs the specs in N worker processes, each one this binary re-executed
// as `hwcert run ... --parallel-process i --parallel-total N --parallel-host URL`. Ginkgo's
// RunSpecs in a worker acts as a client of a parallel server: it fetches the index of the next
// spec from a shared counter (so all specs form one pool), hands the synchronized before-suite
// data of process 1 to the others, and sends every finished spec and its final report to the
// server; process 1 then receives the others' reports and writes the merged JUnit and JSON
// reports. The Ginkgo CLI is that server for `ginkgo -p`; the one here speaks the same protocol
// (Ginkgo's HTTP flavour, chosen in the workers by GINKGO_PARALLEL_PROTOCOL=HTTP), so no Go
// toolchain is needed. Its handlers follow the protocol's contract: an answer that is not ready
// yet is 425 Too Early (the client polls again), one that will never come is 410 Gone.

// workerFlags are the hidden flags a worker process is started with.
type workerFlags struct {
	process, total int
	host           string
	seed           int64
}

func (w *workerFlags) register(f *pflag.FlagSet) {
	f.IntVar(&w.process, "parallel-process", 0, "worker of a parallel run: this process's number (set by --procs)")
	f.IntVar(&w.total, "parallel-total", 0, "worker of a parallel run: the number of processes (set by --procs)")
	f.StringVar(&w.host, "parallel-host", "", "worker of a parallel run: the parent's server (set by --procs)")
	f.Int64Var(&w.seed, "parallel-seed", 0, "worker of a parallel run: the spec order's seed, the same in every process (set by --procs)")
	for _, n := range []string{"parallel-process", "parallel-total", "parallel-host", "parallel-seed"} {
		_ = f.MarkHidden(n)
	}
}

func (w *workerFlags) active() bool { return w.total > 0 }

// apply makes RunSpecs a client of the parent's server.
func (w *workerFlags) apply(c *types.SuiteConfig) error {
	if w.process < 1 || w.process > w.total || w.host == "" {
		return usageErr("--parallel-process %d --parallel-total %d --parallel-host %q: not a worker of a parallel run (these flags are set by --procs)", w.process, w.total, w.host)
	}
	c.ParallelProcess, c.ParallelTotal, c.ParallelHost, c.RandomSeed = w.process, w.total, w.host, w.seed
	return nil
}

// parallelServer is the parent's side of the protocol.
type parallelServer struct {
	total    int
	listener net.Listener
	events   *progress

	mu                 sync.Mutex
	alive              []bool // per process, false once it exited
	begun, ended       int
	endedBy            []bool
	aggregate          types.Report
	reportBeforeSuite  types.SpecState
	beforeSuite        beforeSuiteState
	counter            int
	abort              bool
	lastProcessFailure string
}

// beforeSuiteState is what process 1's SynchronizedBeforeSuite hands to the others.
type beforeSuiteState struct {
	Data  []byte
	State types.SpecState
}

func newParallelServer(total int, events *progress) (*parallelServer, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("parallel run: listening on loopback: %w", err)
	}
	s := &parallelServer{
		total: total, listener: l, events: events,
		alive: make([]bool, total), endedBy: make([]bool, total),
		reportBeforeSuite: types.SpecStateInvalid,
		beforeSuite:       beforeSuiteState{State: types.SpecStateInvalid},
	}
	for i := range s.alive {
		s.alive[i] = true
	}
	mux := http.NewServeMux()
	mux.HandleFunc("/up", func(http.ResponseWriter, *http.Request) {})
	mux.HandleFunc("/suite-will-begin", post(func(types.Report) { s.locked(func() { s.begun++ }) }))
	mux.HandleFunc("/did-run", post(func(r types.SpecReport) { s.events.specEnded(r) }))
	mux.HandleFunc("/suite-did-end", post(s.suiteDidEnd))
	mux.HandleFunc("/emit-output", func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(s.events.out, r.Body)
	})
	mux.HandleFunc("/progress-report", post(func(p types.ProgressReport) { s.events.stuck(p) }))
	mux.HandleFunc("/report-before-suite-completed", post(func(st types.SpecState) { s.locked(func() { s.reportBeforeSuite = st }) }))
	mux.HandleFunc("/report-before-suite-state", s.fromProcess1(func() (any, bool) {
		return s.reportBeforeSuite, s.reportBeforeSuite != types.SpecStateInvalid
	}))
	mux.HandleFunc("/before-suite-completed", post(func(b beforeSuiteState) { s.locked(func() { s.beforeSuite = b }) }))
	mux.HandleFunc("/before-suite-state", s.fromProcess1(func() (any, bool) {
		return s.beforeSuite, s.beforeSuite.State != types.SpecStateInvalid
	}))
	mux.HandleFunc("/have-nonprimary-procs-finished", func(w http.ResponseWriter, _ *http.Request) {
		if !s.othersFinished() {
			w.WriteHeader(http.StatusTooEarly)
		}
	})
	mux.HandleFunc("/aggregated-nonprimary-procs-report", s.aggregatedReport)
	mux.HandleFunc("/counter", func(w http.ResponseWriter, _ *http.Request) {
		s.mu.Lock()
		n := s.counter
		s.counter++
		s.mu.Unlock()
		_ = json.NewEncoder(w).Encode(struct{ Index int }{n})
	})
	mux.HandleFunc("/abort", func(w http.ResponseWriter, r *http.Request) {
		s.mu.Lock()
		defer s.mu.Unlock()
		if r.Method == http.MethodPost {
			s.abort = true
		} else if s.abort {
			w.WriteHeader(http.StatusGone)
		}
	})
	mux.HandleFunc(progressPath, post(s.events.event))
	go func() { _ = http.Serve(l, mux) }()
	return s, nil
}

func (s *parallelServer) url() string { return "http://" + s.listener.Addr().String() }

func (s *parallelServer) close() { _ = s.listener.Close() }

func (s *parallelServer) locked(f func()) {
	s.mu.Lock()
	defer s.mu.Unlock()
	f()
}

// post decodes a JSON body into a T and hands it on.
func post[T any](f func(T)) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		var v T
		if err := json.NewDecoder(r.Body).Decode(&v); err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		f(v)
	}
}

// fromProcess1 answers with what process 1 posted, 425 until it did, 410 when it exited first.
func (s *parallelServer) fromProcess1(get func() (any, bool)) http.HandlerFunc {
	return func(w http.ResponseWriter, _ *http.Request) {
		s.mu.Lock()
		v, ok := get()
		alive := s.alive[0]
		s.mu.Unlock()
		switch {
		case ok:
			_ = json.NewEncoder(w).Encode(v)
		case alive:
			w.WriteHeader(http.StatusTooEarly)
		default:
			w.WriteHeader(http.StatusGone)
		}
	}
}

func (s *parallelServer) suiteDidEnd(r types.Report) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if p := r.SuiteConfig.ParallelProcess; p >= 1 && p <= s.total {
		s.endedBy[p-1] = true
	}
	if s.ended == 0 {
		s.aggregate = r
	} else {
		s.aggregate = s.aggregate.Add(r)
	}
	s.ended++
}

// othersFinished says whether every process but 1 ended its suite or exited.
func (s *parallelServer) othersFinished() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	for i := 1; i < s.total; i++ {
		if !s.endedBy[i] && s.alive[i] {
			return false
		}
	}
	return true
}

// aggregatedReport hands process 1 the merged report of the others, once they all finished;
// 410 when one exited without a report (process 1 then says so in the suite's failure reasons).
func (s *parallelServer) aggregatedReport(w http.ResponseWriter, _ *http.Request) {
	if !s.othersFinished() {
		w.WriteHeader(http.StatusTooEarly)
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.ended != s.total-1 {
		w.WriteHeader(http.StatusGone)
		return
	}
	_ = json.NewEncoder(w).Encode(s.aggregate)
}

func (s *parallelServer) exited(process int, err error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.alive[process-1] = false
	if err != nil && !s.endedBy[process-1] {
		s.lastProcessFailure = fmt.Sprintf("worker process %d exited before the end of its suite: %v", process, err)
	}
}

// runParallel runs the suites in procs worker processes and waits for them. It returns whether
// every worker exited 0. Signals reach the workers too: an interrupt from a terminal reaches the
// whole process group; SIGTERM (a CI job's cancel) is sent on to each worker, which then runs
// its cleanups as for Ctrl-C.
func runParallel(ctx context.Context, cmd *cobra.Command, procs int, seed int64, events *progress) (bool, error) {
	srv, err := newParallelServer(procs, events)
	if err != nil {
		return false, err
	}
	defer srv.close()
	self, err := os.Executable()
	if err != nil {
		return false, fmt.Errorf("parallel run: finding this binary to start its workers: %w", err)
	}
	args := workerArgs(cmd)
	workers := make([]*exec.Cmd, procs)
	var wg sync.WaitGroup
	errs := make([]error, procs)
	for i := range workers {
		p := i + 1
		w := exec.Command(self, append(slices.Clone(args), "--parallel-process", strconv.Itoa(p), "--parallel-total", strconv.Itoa(procs),
			"--parallel-host", srv.url(), "--parallel-seed", strconv.FormatInt(seed, 10))...)
		w.Env = append(os.Environ(), "GINKGO_PARALLEL_PROTOCOL=HTTP")
		// What a worker prints outside a spec (its own errors) reaches the user; spec output
		// travels in the spec reports.
		w.Stdout, w.Stderr = events.out, events.out
		if err := w.Start(); err != nil {
			for _, started := range workers[:i] {
				_ = started.Process.Signal(syscall.SIGTERM)
			}
			return false, fmt.Errorf("parallel run: starting worker %d: %w", p, err)
		}
		workers[i] = w
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs[p-1] = w.Wait()
			srv.exited(p, errs[p-1])
		}()
	}
	done := make(chan struct{})
	go func() { wg.Wait(); close(done) }()
	select {
	case <-done:
	case <-ctx.Done():
		for _, w := range workers {
			_ = w.Process.Signal(syscall.SIGTERM)
		}
		<-done
	}
	if srv.lastProcessFailure != "" {
		fmt.Fprintln(events.out, "hwcert:", srv.lastProcessFailure)
	}
	for _, err := range errs {
		var ee *exec.ExitError
		if err != nil && !errors.As(err, &ee) {
			return false, fmt.Errorf("parallel run: waiting for a worker: %w", err)
		}
	}
	return errors.Join(errs...) == nil, nil
}

// workerArgs repeats the command line's flags for a worker: every flag the user set except
// --procs, and --skip-preflight because the parent ran the preflight.
func workerArgs(cmd *cobra.Command) []string {
	args := []string{cmd.Name()}
	cmd.Flags().Visit(func(f *pflag.Flag) {
		switch f.Name {
		case "procs", "skip-preflight":
			return
		}
		if sv, ok := f.Value.(pflag.SliceValue); ok {
			for _, v := range sv.GetSlice() {
				args = append(args, "--"+f.Name+"="+v)
			}
			return
		}
		args = append(args, "--"+f.Name+"="+f.Value.String())
	})
	return append(args, "--skip-preflight")
}

// procsFor reads --procs: a number, or "auto" for hosts (the lab's compute hosts).
func procsFor(value string, hosts func() (int, error)) (int, error) {
	if value == "auto" {
		n, err := hosts()
		if err != nil {
			return 0, fmt.Errorf("--procs auto: counting the lab's hosts: %w", err)
		}
		return max(1, n), nil
	}
	n, err := strconv.Atoi(value)
	if err != nil || n < 1 || n > maxProcs {
		return 0, usageErr("--procs %q: expected a number from 1 to %d, or auto (one process per compute host of the lab)", value, maxProcs)
	}
	return n, nil
}

const maxProcs = 64

// cloudHostCount asks the lab a config names how many compute hosts it has.
func cloudHostCount(ctx context.Context, cfg *config.Config) (int, error) {
	cloud, err := openstack.New(ctx, cfg)
	if err != nil {
		return 0, err
	}
	hosts, err := cloud.Hosts(ctx)
	return len(hosts), err
}
