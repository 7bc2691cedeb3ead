// Package chaos decides when the mock's plumbing fails: which request is answered 503, which
// connection is dropped, which boot sticks in BUILD. A lab fails this way now and then (a proxy
// answering 503, an ssh link that drops, a compute node whose spawn fails) and the harness must
// survive it and say the failure is the lab's. Every decision comes from one seeded source, so a
// run is replayed by giving the same seed.
//
// A fault is written KIND:ARG[:ARG] (hwcert mock --chaos, a lab's chaos: list):
//
//	api-5xx:RATE            answer 500/502/503 instead of serving the request
//	api-slow:RATE:DELAY     answer after DELAY
//	api-reset:RATE          close the connection without an answer
//	token-expiry:AFTER      tokens expire AFTER they are issued
//	delete-409:RATE         answer a server delete 409 (task state) before accepting it
//	stuck:RATE              a boot stays in BUILD for good
//	boot-error:RATE         a boot ends ERROR with a spawn failure (not "No valid host")
//	libvirt-drop:RATE       close a libvirt connection instead of answering a call
//	libvirt-restart:EVERY   a host's libvirtd goes away every EVERY, for a while
//	seed:N                  the seed of the decisions (default: random, reported by Seed)
//
// RATE is a fraction (0.1) or a percentage (10%) of the eligible events, or COUNTx (3x) for
// the first COUNT of them.
package chaos

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// Kind is a kind of plumbing fault.
type Kind string

// The kinds of fault.
const (
	API5xx         Kind = "api-5xx"
	APISlow        Kind = "api-slow"
	APIReset       Kind = "api-reset"
	TokenExpiry    Kind = "token-expiry"
	Delete409      Kind = "delete-409"
	Stuck          Kind = "stuck"
	BootError      Kind = "boot-error"
	LibvirtDrop    Kind = "libvirt-drop"
	LibvirtRestart Kind = "libvirt-restart"
)

// kindInfo says what arguments a kind takes and what it does, for errors and help.
type kindInfo struct {
	kind  Kind
	args  string // "RATE", "RATE:DELAY", "AFTER", "EVERY"
	lie   string
	extra bool // takes a duration after the rate
}

var kinds = []kindInfo{
	{API5xx, "RATE", "Keystone, Nova, Glance and Neutron answer 500/502/503 to a share of requests", false},
	{APISlow, "RATE:DELAY", "a share of requests is answered after DELAY", true},
	{APIReset, "RATE", "a share of connections is closed without an answer", false},
	{TokenExpiry, "AFTER", "tokens expire AFTER they are issued (the client must re-authenticate)", false},
	{Delete409, "RATE", "a server delete is answered 409 (task state) before it is accepted", false},
	{Stuck, "RATE", "a boot stays in BUILD for good", false},
	{BootError, "RATE", "a boot ends ERROR with a spawn failure (not \"No valid host\")", false},
	{LibvirtDrop, "RATE", "a libvirt connection is closed instead of answering a call", false},
	{LibvirtRestart, "EVERY", "each libvirtd goes away every EVERY for a while, and comes back", false},
}

// Usage is one line per fault kind, for flag help.
func Usage() string {
	var b strings.Builder
	for _, k := range kinds {
		fmt.Fprintf(&b, "  %-28s %s\n", string(k.kind)+":"+k.args, k.lie)
	}
	fmt.Fprintf(&b, "  %-28s %s\n", "seed:N", "the seed of every decision (default random; printed)")
	return b.String()
}

// rule is one parsed fault.
type rule struct {
	rate  float64 // share of eligible events; 0 with count
	count int     // the first count eligible events; 0 with rate
	dur   time.Duration
	seen  int // eligible events so far
	fired int
}

// Set is the faults of one mock, with their seeded source. Its methods are safe for concurrent
// use; the nil *Set injects nothing.
type Set struct {
	armed atomic.Bool
	mu    sync.Mutex
	seed  uint64
	rng   *rand.Rand
	rules map[Kind]*rule
}

// Parse reads fault specs; an unknown kind, a missing or malformed argument is an error naming
// the spec and what was expected. Specs of one kind given twice: the last one wins.
func Parse(specs []string) (*Set, error) {
	s := &Set{rules: map[Kind]*rule{}, seed: rand.Uint64()}
	for _, spec := range specs {
		name, args, _ := strings.Cut(strings.TrimSpace(spec), ":")
		if name == "seed" {
			n, err := strconv.ParseUint(args, 10, 64)
			if err != nil {
				return nil, fmt.Errorf("chaos %q: seed %q: expected a non-negative integer", spec, args)
			}
			s.seed = n
			continue
		}
		i := slices.IndexFunc(kinds, func(k kindInfo) bool { return string(k.kind) == name })
		if i < 0 {
			return nil, fmt.Errorf("chaos %q: unknown kind %q (known: %s)", spec, name, knownKinds())
		}
		k := kinds[i]
		r, err := parseRule(k, args)
		if err != nil {
			return nil, fmt.Errorf("chaos %q: %w (expected %s:%s)", spec, err, k.kind, k.args)
		}
		s.rules[k.kind] = r
	}
	s.rng = rand.New(rand.NewPCG(s.seed, s.seed^0x9e3779b97f4a7c15))
	return s, nil
}

func knownKinds() string {
	var out []string
	for _, k := range kinds {
		out = append(out, string(k.kind))
	}
	return strings.Join(append(out, "seed"), ", ")
}

func parseRule(k kindInfo, args string) (*rule, error) {
	if args == "" {
		return nil, fmt.Errorf("missing %s", k.args)
	}
	if k.args == "AFTER" || k.args == "EVERY" {
		d, err := time.ParseDuration(args)
		if err != nil || d <= 0 {
			return nil, fmt.Errorf("%s %q: expected a positive duration such as 30s", k.args, args)
		}
		return &rule{dur: d}, nil
	}
	rate, rest, hasRest := strings.Cut(args, ":")
	if hasRest != k.extra {
		if k.extra {
			return nil, fmt.Errorf("missing DELAY after %q", rate)
		}
		return nil, fmt.Errorf("unexpected %q after the rate", rest)
	}
	r := &rule{}
	switch {
	case strings.HasSuffix(rate, "x"):
		n, err := strconv.Atoi(strings.TrimSuffix(rate, "x"))
		if err != nil || n <= 0 {
			return nil, fmt.Errorf("count %q: expected a positive integer followed by x, such as 3x", rate)
		}
		r.count = n
	default:
		pct := strings.HasSuffix(rate, "%")
		f, err := strconv.ParseFloat(strings.TrimSuffix(rate, "%"), 64)
		if pct {
			f /= 100
		}
		if err != nil || !(f > 0 && f <= 1) {
			return nil, fmt.Errorf("rate %q: expected a share in (0, 1] such as 0.1 or 10%%, or a count such as 3x", rate)
		}
		r.rate = f
	}
	if k.extra {
		d, err := time.ParseDuration(rest)
		if err != nil || d <= 0 {
			return nil, fmt.Errorf("DELAY %q: expected a positive duration such as 500ms", rest)
		}
		r.dur = d
	}
	return r, nil
}

// Seed is the seed of the decisions, to replay a run.
func (s *Set) Seed() uint64 {
	if s == nil {
		return 0
	}
	return s.seed
}

// Has reports whether a fault of kind k is configured.
func (s *Set) Has(k Kind) bool {
	if s == nil {
		return false
	}
	_, ok := s.rules[k]
	return ok
}

// Arm starts the faults. The mock arms its set once every endpoint is up: a lab that never
// came up is not a fault of its plumbing, and the probes of the start must not be counted.
func (s *Set) Arm() {
	if s != nil {
		s.armed.Store(true)
	}
}

// Armed reports whether the faults have started (see Arm), for faults injected on a schedule.
func (s *Set) Armed() bool { return s != nil && s.armed.Load() }

// Fire decides whether one eligible event of kind k fails; none does before Arm.
func (s *Set) Fire(k Kind) bool {
	if s == nil || !s.armed.Load() {
		return false
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	r, ok := s.rules[k]
	if !ok {
		return false
	}
	r.seen++
	hit := false
	if r.count > 0 {
		hit = r.seen <= r.count
	} else {
		hit = s.rng.Float64() < r.rate
	}
	if hit {
		r.fired++
	}
	return hit
}

// Pick returns a seeded choice in [0, n), for the details of a fault (which 5xx, reset before
// or after serving).
func (s *Set) Pick(n int) int {
	if s == nil || n <= 1 {
		return 0
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.rng.IntN(n)
}

// Duration is the duration argument of kind k (DELAY, AFTER, EVERY), 0 when not configured.
func (s *Set) Duration(k Kind) time.Duration {
	if s == nil {
		return 0
	}
	if r, ok := s.rules[k]; ok {
		return r.dur
	}
	return 0
}

// Fired counts the faults injected so far, by kind (kinds that never fired are left out).
func (s *Set) Fired() map[Kind]int {
	out := map[Kind]int{}
	if s == nil {
		return out
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	for k, r := range s.rules {
		if r.fired > 0 {
			out[k] = r.fired
		}
	}
	return out
}

// Record counts a fault injected on a schedule rather than per event (libvirt-restart).
func (s *Set) Record(k Kind) {
	if s == nil {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if r, ok := s.rules[k]; ok {
		r.fired++
	}
}

// String lists the configured faults and the seed, as they would be given again.
func (s *Set) String() string {
	if s == nil {
		return ""
	}
	var out []string
	for _, k := range kinds {
		r, ok := s.rules[k.kind]
		if !ok {
			continue
		}
		switch {
		case k.args == "AFTER" || k.args == "EVERY":
			out = append(out, fmt.Sprintf("%s:%s", k.kind, r.dur))
		case r.count > 0 && k.extra:
			out = append(out, fmt.Sprintf("%s:%dx:%s", k.kind, r.count, r.dur))
		case r.count > 0:
			out = append(out, fmt.Sprintf("%s:%dx", k.kind, r.count))
		case k.extra:
			out = append(out, fmt.Sprintf("%s:%g:%s", k.kind, r.rate, r.dur))
		default:
			out = append(out, fmt.Sprintf("%s:%g", k.kind, r.rate))
		}
	}
	return strings.Join(append(out, fmt.Sprintf("seed:%d", s.seed)), " ")
}
