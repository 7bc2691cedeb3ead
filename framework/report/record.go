// Package report is the certification bundle a run leaves for a certifier: index.html (one
// self-contained page: verdict per card, the matrix of cards × spec families, a NUMA picture per
// host and per booted guest), summary.json (the same facts for machines, schema SchemaVersion)
// and MANIFEST.sha256 (sha256sum -c verifies every file of the bundle). It is built from what a
// run already writes — Ginkgo's report.json, with the report entries the framework adds
// (EntryLab from the suite setup, EntryPlacement from every inspection) and the evidence
// directories — so `hwcert report --from DIR` can remake it after an upgrade.
//
// The model (Build) and the pictures (HostSVG) are pure; WriteBundle does the file I/O.
package report

import (
	"fmt"
	"net/url"
	"runtime/debug"
	"slices"
	"strings"

	"github.com/onsi/ginkgo/v2/types"

	"github.com/hwcert/hwcert/config"
	"github.com/hwcert/hwcert/framework/catalog"
	"github.com/hwcert/hwcert/framework/inventory"
	"github.com/hwcert/hwcert/framework/placement"
)

// Names of the report entries the framework adds for the report (visibility Never: they are
// data for this package, not lines for a person reading the console).
const (
	EntryLab       = "hwcert-lab"
	EntryPlacement = "hwcert-placement"
	// EntryEvidence is the entry framework adds when a failed spec's evidence was written.
	EntryEvidence = "evidence"
)

// Lab is what the suite setup records once per run (process 1): who ran, on which lab, with
// which configuration, catalog and host topology.
type Lab struct {
	Harness Harness `json:"harness"`
	RunID   string  `json:"run_id"`
	// Cloud is the clouds.yaml cloud name.
	Cloud string `json:"cloud"`
	// Mock is set when the run used the embedded mock lab rather than a real lab.
	Mock *MockLab `json:"mock,omitempty"`
	// MinMicroversion and MaxMicroversion are the compute API's range; Microversion is what the
	// harness sends.
	MinMicroversion string `json:"min_microversion"`
	MaxMicroversion string `json:"max_microversion"`
	Microversion    string `json:"microversion"`
	// Config is the harness config with secrets removed (RedactConfig).
	Config config.Config `json:"config"`
	// CatalogSource is where the device catalog was read from.
	CatalogSource string          `json:"catalog_source"`
	Catalog       []catalog.Entry `json:"catalog"`
	// Cards are the catalog aliases the run was asked to certify (hwcert run --card); empty for
	// a run of the whole matrix.
	Cards []string         `json:"cards,omitempty"`
	Hosts []inventory.Host `json:"hosts"`
}

// MockLab names the embedded mock lab and the faults it was told to inject.
type MockLab struct {
	Lab    string   `json:"lab"`
	Faults []string `json:"faults,omitempty"`
}

// String keeps the console and any reporter that prints entries to one line.
func (l Lab) String() string {
	return fmt.Sprintf("lab %s: %d hosts, %d catalog entries", l.Cloud, len(l.Hosts), len(l.Catalog))
}

// Harness is the build of hwcert that ran.
type Harness struct {
	Version  string `json:"version"`
	Revision string `json:"revision,omitempty"`
	Time     string `json:"revision_time,omitempty"`
	Modified bool   `json:"modified,omitempty"`
}

// Revision is the VCS revision `make build` stamps (-ldflags -X) for builds whose toolchain
// leaves the build info without one (-buildvcs=false, a worktree the go command cannot read).
var Revision string

// CurrentHarness reads the running binary's module version and VCS stamp.
func CurrentHarness() Harness {
	h := Harness{Version: "unknown", Revision: Revision}
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		return h
	}
	h.Version = bi.Main.Version
	for _, s := range bi.Settings {
		switch s.Key {
		case "vcs.revision":
			h.Revision = s.Value
		case "vcs.time":
			h.Time = s.Value
		case "vcs.modified":
			h.Modified = s.Value == "true"
		}
	}
	return h
}

// PlacementRecord is one inspection of a guest: where it landed.
type PlacementRecord struct {
	Host      string               `json:"host"`
	Server    string               `json:"server"`
	Placement *placement.Placement `json:"placement"`
}

func (r PlacementRecord) String() string {
	return fmt.Sprintf("server %s on %s: %d hostdevs", r.Server, r.Host, len(r.Placement.Devices))
}

// RedactConfig returns cfg without what must not leave the lab: passwords in libvirt URIs
// (qemu+tcp://user:secret@host/system). The harness config holds no other secret (credentials
// are in clouds.yaml, which the report never reads).
func RedactConfig(cfg config.Config) config.Config {
	out := cfg
	out.Hypervisors.URITemplate = redactURI(cfg.Hypervisors.URITemplate)
	if cfg.Hypervisors.Hosts != nil {
		out.Hypervisors.Hosts = make(map[string]string, len(cfg.Hypervisors.Hosts))
		for h, u := range cfg.Hypervisors.Hosts {
			out.Hypervisors.Hosts[h] = redactURI(u)
		}
	}
	return out
}

// redactURI replaces a URI's password and any query value named like a secret. A value that
// does not parse as a URI is kept only when it cannot hold userinfo.
func redactURI(s string) string {
	if s == "" {
		return s
	}
	// A template's {host} is not valid in a URI's host part; stand something valid in for it.
	const placeholder = "hwcert-template-host"
	u, err := url.Parse(strings.ReplaceAll(s, "{host}", placeholder))
	if err != nil {
		if strings.Contains(s, "@") {
			return "(redacted: not a URI)"
		}
		return s
	}
	changed := false
	if _, has := u.User.Password(); has {
		u.User = url.UserPassword(u.User.Username(), "REDACTED")
		changed = true
	}
	q := u.Query()
	for k := range q {
		if l := strings.ToLower(k); strings.Contains(l, "pass") || strings.Contains(l, "secret") || strings.Contains(l, "token") {
			q.Set(k, "REDACTED")
			changed = true
		}
	}
	if !changed {
		return s
	}
	u.RawQuery = q.Encode()
	return strings.ReplaceAll(u.String(), placeholder, "{host}")
}

// WithoutEntries returns r without the report entries this package reads: they are data for the
// bundle, and reporters that print every entry (JUnit properties) would grow by all of it. r is
// not changed.
func WithoutEntries(r types.Report) types.Report {
	r.SpecReports = slices.Clone(r.SpecReports)
	for i, sr := range r.SpecReports {
		r.SpecReports[i].ReportEntries = slices.DeleteFunc(slices.Clone(sr.ReportEntries), func(e types.ReportEntry) bool {
			return e.Name == EntryLab || e.Name == EntryPlacement
		})
	}
	return r
}
