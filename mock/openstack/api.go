// Package openstack serves the mock cloud over HTTP the way OpenStack does: Keystone v3
// (password auth, tokens, catalog), Nova v2.1 (microversions, flavors and extra specs, servers,
// hypervisors, availability zones, the server lifecycle), the part of Glance v2 that clients need
// to find an image, and a minimal Neutron v2.0 (fixed networks, the ports Nova creates). One
// listener carries all four under /identity, /compute, /image and /networking, like devstack.
//
// Bodies, status codes and error texts follow Nova's (nova/api/openstack/...), because the
// harness asserts on what a user of a real cloud would see.
package openstack

import (
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/hwcert/hwcert/mock/chaos"
	"github.com/hwcert/hwcert/mock/cloud"
)

// Path prefixes of the three services on the one listener.
const (
	IdentityPrefix = "/identity"
	ComputePrefix  = "/compute"
	ImagePrefix    = "/image"
)

// Credentials are the one admin account the mock's Keystone knows.
type Credentials struct {
	Username    string
	Password    string
	ProjectName string
	UserID      string
	ProjectID   string
	DomainID    string // "default"
	DomainName  string // "Default"
}

// NewCredentials generates an admin account with a random password and ids, for one run.
func NewCredentials() Credentials {
	return Credentials{
		Username:    "admin",
		Password:    randomHex(16),
		ProjectName: "admin",
		UserID:      randomHex(16),
		ProjectID:   randomHex(16),
		DomainID:    "default",
		DomainName:  "Default",
	}
}

// Options configure the API.
type Options struct {
	Cloud       *cloud.Cloud
	Credentials Credentials
	// TokenTTL is how long an issued token stays valid (default 12h, Keystone's default).
	TokenTTL time.Duration
	Logger   *slog.Logger
	// BaseURL is where the API listens (http://127.0.0.1:PORT): the catalog and every link
	// point there, whatever Host header a client sends.
	BaseURL string
	// Chaos are the plumbing faults to inject (nil: none); token-expiry overrides TokenTTL.
	Chaos *chaos.Set
}

// maxRequestBody bounds what one request can make the mock hold; the largest real body (a
// flavor's extra specs, a server create) is a few kilobytes.
const maxRequestBody = 1 << 20

// API is the HTTP face of a mock cloud.
type API struct {
	cloud  *cloud.Cloud
	creds  Credentials
	ttl    time.Duration
	log    *slog.Logger
	mux    *http.ServeMux
	maxVer microversion
	base   string
	chaos  *chaos.Set

	mu     sync.Mutex
	tokens map[string]time.Time // token id -> expiry
}

// New builds the API over a cloud. The lab's max microversion must be valid (lab validation).
func New(opts Options) (*API, error) {
	if opts.Cloud == nil {
		return nil, fmt.Errorf("openstack: Options.Cloud is nil")
	}
	if opts.Credentials.Username == "" || opts.Credentials.Password == "" {
		return nil, fmt.Errorf("openstack: credentials need a username and a password")
	}
	maxVer, err := parseMicroversion(opts.Cloud.Lab().Nova.MaxMicroversion)
	if err != nil {
		return nil, fmt.Errorf("openstack: lab nova.max_microversion: %w", err)
	}
	if maxVer.less(minMicroversion) {
		return nil, fmt.Errorf("openstack: lab nova.max_microversion %s is below the minimum %s", maxVer, minMicroversion)
	}
	a := &API{
		cloud:  opts.Cloud,
		creds:  opts.Credentials,
		ttl:    opts.TokenTTL,
		log:    opts.Logger,
		mux:    http.NewServeMux(),
		maxVer: maxVer,
		tokens: map[string]time.Time{},
		base:   strings.TrimSuffix(opts.BaseURL, "/"),
		chaos:  opts.Chaos,
	}
	if d := opts.Chaos.Duration(chaos.TokenExpiry); d > 0 {
		a.ttl = d
	}
	if a.ttl <= 0 {
		a.ttl = 12 * time.Hour
	}
	if a.log == nil {
		a.log = slog.New(slog.DiscardHandler)
	}
	a.routeIdentity()
	a.routeCompute()
	a.routeImage()
	a.routeNetwork()
	return a, nil
}

// ServeHTTP dispatches to the three services. A path no route knows gets the service's own
// 404/405 answer rather than Go's plain-text one.
func (a *API) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	start := time.Now()
	r.Body = http.MaxBytesReader(w, r.Body, maxRequestBody)
	if a.injectFault(w, r, a.route) {
		return
	}
	rec := &statusRecorder{ResponseWriter: w}
	a.route(rec, r)
	a.log.Debug("request", "method", r.Method, "path", r.URL.Path, "status", rec.status, "duration", time.Since(start))
}

// route serves a request without faults.
func (a *API) route(w http.ResponseWriter, r *http.Request) {
	rec, ok := w.(*statusRecorder)
	if !ok {
		rec = &statusRecorder{ResponseWriter: w}
	}
	if _, pattern := a.mux.Handler(r); pattern == "" {
		a.unrouted(rec, r)
	} else {
		a.mux.ServeHTTP(rec, r)
	}
}

// unrouted answers a request no route matched: 405 when the path exists for another method
// (Go's mux tells us by answering 405), 404 otherwise, in the service's error format.
func (a *API) unrouted(w http.ResponseWriter, r *http.Request) {
	probe := &statusRecorder{ResponseWriter: discardWriter{h: http.Header{}}}
	a.mux.ServeHTTP(probe, r)
	code := http.StatusNotFound
	if probe.status == http.StatusMethodNotAllowed {
		code = http.StatusMethodNotAllowed
		if allow := probe.Header().Get("Allow"); allow != "" {
			w.Header().Set("Allow", allow)
		}
	}
	switch {
	case strings.HasPrefix(r.URL.Path, ComputePrefix+"/"):
		// Nova's router answers unknown paths and methods with webob's plain exceptions.
		if code == http.StatusMethodNotAllowed {
			writeText(w, code, "405 Method Not Allowed\n\nThe method is not allowed for this resource.\n\n")
		} else {
			writeText(w, code, "404 Not Found\n\nThe resource could not be found.\n\n")
		}
	case strings.HasPrefix(r.URL.Path, IdentityPrefix+"/"):
		if code == http.StatusMethodNotAllowed {
			keystoneError(w, code, "Method Not Allowed", "The method you made is not allowed on this resource.")
		} else {
			keystoneError(w, code, "Not Found", "The resource could not be found.")
		}
	default:
		if code == http.StatusMethodNotAllowed {
			writeText(w, code, "405 Method Not Allowed\n\nThe method is not allowed for this resource.\n\n")
		} else {
			writeText(w, code, "404 Not Found\n\nThe resource could not be found.\n\n")
		}
	}
}

type statusRecorder struct {
	http.ResponseWriter
	status int
}

func (s *statusRecorder) WriteHeader(code int) {
	if s.status == 0 {
		s.status = code
	}
	s.ResponseWriter.WriteHeader(code)
}

func (s *statusRecorder) Write(b []byte) (int, error) {
	if s.status == 0 {
		s.status = http.StatusOK
	}
	return s.ResponseWriter.Write(b)
}

type discardWriter struct{ h http.Header }

func (d discardWriter) Header() http.Header         { return d.h }
func (d discardWriter) Write(b []byte) (int, error) { return len(b), nil }
func (d discardWriter) WriteHeader(int)             {}

func writeJSON(w http.ResponseWriter, code int, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		// Every body is built from plain maps and structs; failing here is a bug in this package.
		http.Error(w, "encoding response: "+err.Error(), http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Content-Length", fmt.Sprint(len(b)))
	w.WriteHeader(code)
	_, _ = w.Write(b)
}

func writeText(w http.ResponseWriter, code int, text string) {
	w.Header().Set("Content-Type", "text/plain; charset=UTF-8")
	w.WriteHeader(code)
	_, _ = w.Write([]byte(text))
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b) // crypto/rand.Read never fails (Go ≥ 1.24)
	return hex.EncodeToString(b)
}

// baseURL is where links point: the address the API listens on, or (for an API built without
// one, in tests) the scheme and host the client used. A client's Host header must not choose
// where the catalog sends the next client.
func (a *API) baseURL(r *http.Request) string {
	if a.base != "" {
		return a.base
	}
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	return scheme + "://" + r.Host
}

// authenticated reports whether the request carries a valid token.
func (a *API) authenticated(r *http.Request) bool {
	tok := r.Header.Get("X-Auth-Token")
	if tok == "" {
		return false
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	exp, ok := a.tokens[tok]
	if !ok {
		return false
	}
	if !time.Now().Before(exp) {
		delete(a.tokens, tok)
		return false
	}
	return true
}
