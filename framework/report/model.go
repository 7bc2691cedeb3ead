package report

import (
	"cmp"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/onsi/ginkgo/v2/types"

	"github.com/hwcert/hwcert/framework/catalog"
	"github.com/hwcert/hwcert/framework/placement"
)

// SchemaVersion names the layout of summary.json (README "The certification bundle"). A change
// that removes or changes the meaning of a field gets a new version; added fields do not.
const SchemaVersion = "hwcert.summary/v1"

// Spec states as the report shows them.
const (
	StatePassed  = "passed"
	StateFailed  = "failed"
	StateSkipped = "skipped"
	// StateNotRun is a spec the label filter (or --card) left out.
	StateNotRun = "not run"
)

// Summary is the model behind the page and, as JSON, summary.json.
type Summary struct {
	Schema   string   `json:"schema"`
	Run      Run      `json:"run"`
	Lab      LabFacts `json:"lab"`
	Families []Family `json:"families"`
	// Cards are the catalog entries with at least one spec in the run, the requested cards
	// (--card) first, then in catalog order.
	Cards []Card `json:"cards"`
	// NotRun are the catalog aliases no spec of the run was about.
	NotRun []string `json:"cards_not_run,omitempty"`
	// Specs are every spec of the suite: failed first, then by text.
	Specs []Spec `json:"specs"`
	// Hosts are the lab's hosts as the inventory read them (the pictures are drawn from them).
	Hosts []HostFacts `json:"-"`
}

// Run says what ran when.
type Run struct {
	ID          string    `json:"id"`
	Harness     Harness   `json:"harness"`
	Start       time.Time `json:"start"`
	End         time.Time `json:"end"`
	LabelFilter string    `json:"label_filter"`
	Cards       []string  `json:"cards_requested,omitempty"`
	Succeeded   bool      `json:"succeeded"`
	Counts      Counts    `json:"counts"`
}

// Counts are spec counts by state.
type Counts struct {
	Passed  int `json:"passed"`
	Failed  int `json:"failed"`
	Skipped int `json:"skipped"`
	NotRun  int `json:"not_run"`
}

// LabFacts are the lab header.
type LabFacts struct {
	Cloud           string          `json:"cloud"`
	Mock            *MockLab        `json:"mock,omitempty"`
	MinMicroversion string          `json:"min_microversion"`
	MaxMicroversion string          `json:"max_microversion"`
	Microversion    string          `json:"microversion"`
	Hosts           []string        `json:"hosts"`
	CatalogSource   string          `json:"catalog_source"`
	Config          json.RawMessage `json:"config"`
}

// HostFacts is one host for the pictures.
type HostFacts = hostTopology

// Card is the verdict on one catalog entry.
type Card struct {
	Alias       string `json:"alias"`
	DisplayName string `json:"display_name"`
	ID          string `json:"id"`
	Function    string `json:"function"`
	Supported   bool   `json:"passthrough_supported"`
	// Requested is true for a card named by --card.
	Requested bool        `json:"requested"`
	Verdict   string      `json:"verdict"`
	Criteria  []Criterion `json:"criteria"`
	Cells     []Cell      `json:"cells"`
	Specs     []string    `json:"specs"`
}

// Verdicts.
const (
	Certified    = "certified"
	NotCertified = "not certified"
	NotTestable  = "not testable on this lab"
	// RefusedAsUnsupported is an alias whose passthrough is not supported (a QAT PF) that met
	// every criterion: the cloud refused it as it must. It is never called certified, which a
	// reader would take for "this card works for passthrough".
	RefusedAsUnsupported = "refused as unsupported"
)

// Criterion is one rule a card is judged by, whether it is met, and the specs that decide it.
type Criterion struct {
	Rule  string   `json:"rule"`
	Met   bool     `json:"met"`
	Specs []string `json:"specs,omitempty"`
}

// Cell is one matrix cell: the specs of a card in one family and what they add up to.
type Cell struct {
	Family string   `json:"family"`
	State  string   `json:"state"` // passed, failed, skipped, not run, or "" when no spec exists
	Specs  []string `json:"specs,omitempty"`
	// Counts says how many of the specs ended in each state ("2 passed, 1 skipped").
	Counts string `json:"counts,omitempty"`
	// Reason is why the cell's specs skipped (the distinct reasons).
	Reason string `json:"reason,omitempty"`
}

// Spec is one spec of the run.
type Spec struct {
	ID      string   `json:"id"`
	Text    string   `json:"text"`
	State   string   `json:"state"`
	Family  string   `json:"family,omitempty"`
	Aliases []string `json:"aliases,omitempty"`
	Labels  []string `json:"labels"`
	// Reason is the skip reason or the failure message.
	Reason   string  `json:"reason,omitempty"`
	Location string  `json:"location,omitempty"`
	Seconds  float64 `json:"seconds"`
	// Evidence are the spec's evidence files, relative to the bundle.
	Evidence []string `json:"evidence,omitempty"`
	// Guests are the placements of the guests the spec inspected.
	Guests []Guest `json:"guests,omitempty"`
}

// Guest is where one guest landed, as the page highlights it on its host.
type Guest struct {
	Host      string        `json:"host"`
	Server    string        `json:"server"`
	Domain    string        `json:"domain"`
	HostNodes []int         `json:"host_nodes"`
	PCPUs     []int         `json:"pcpus"`
	Devices   []GuestDevice `json:"devices"`
}

// GuestDevice is one hostdev and whether it is local to the guest.
type GuestDevice struct {
	Address  string `json:"address"`
	ID       string `json:"id"`
	Function string `json:"function"`
	NUMANode *int   `json:"numa_node"`
	// Locality is "local" (on one of the guest's host nodes), "remote" (on another node),
	// "no-numa" (the device has no NUMA information) or "unbound" (the guest has no NUMA
	// topology, so no node is local or remote).
	Locality string `json:"locality"`
}

// Localities of a guest's device.
const (
	Local   = "local"
	Remote  = "remote"
	NoNUMA  = "no-numa"
	Unbound = "unbound"
)

// Input is what Build reads: the run's Ginkgo report and, per evidence directory a spec
// recorded, the files in it relative to the bundle.
type Input struct {
	Report   types.Report
	Evidence map[string][]string
}

// Build assembles the summary. It fails when the report carries no EntryLab (a report of an
// older hwcert, or of a run whose setup failed before the lab was read).
func Build(in Input) (*Summary, error) {
	lab, err := findLab(in.Report)
	if err != nil {
		return nil, err
	}
	cfg, err := json.Marshal(lab.Config)
	if err != nil {
		return nil, fmt.Errorf("report: harness config: %w", err)
	}
	s := &Summary{
		Schema: SchemaVersion,
		Run: Run{
			ID: lab.RunID, Harness: lab.Harness, Start: in.Report.StartTime, End: in.Report.EndTime,
			LabelFilter: in.Report.SuiteConfig.LabelFilter, Cards: lab.Cards, Succeeded: in.Report.SuiteSucceeded,
		},
		Lab: LabFacts{
			Cloud: lab.Cloud, Mock: lab.Mock, MinMicroversion: lab.MinMicroversion, MaxMicroversion: lab.MaxMicroversion,
			Microversion: lab.Microversion, CatalogSource: lab.CatalogSource, Config: cfg,
		},
		Families: Families(),
	}
	for _, h := range lab.Hosts {
		s.Lab.Hosts = append(s.Lab.Hosts, h.Name)
		s.Hosts = append(s.Hosts, topologyOf(h))
	}
	if s.Specs, err = specsOf(in); err != nil {
		return nil, err
	}
	for _, sp := range s.Specs {
		switch sp.State {
		case StatePassed:
			s.Run.Counts.Passed++
		case StateFailed:
			s.Run.Counts.Failed++
		case StateSkipped:
			s.Run.Counts.Skipped++
		default:
			s.Run.Counts.NotRun++
		}
	}
	s.Cards, s.NotRun = judgeCards(lab.Catalog, lab.Cards, s.Specs, s.Families)
	return s, nil
}

func findLab(r types.Report) (Lab, error) {
	for _, sr := range r.SpecReports {
		for _, e := range sr.ReportEntries {
			if e.Name != EntryLab {
				continue
			}
			var lab Lab
			if err := json.Unmarshal([]byte(e.Value.AsJSON), &lab); err != nil {
				return Lab{}, fmt.Errorf("report entry %s: %w", EntryLab, err)
			}
			return lab, nil
		}
	}
	return Lab{}, errors.New("report.json has no " + EntryLab + " entry: the run's setup did not read the lab (did it fail before? see junit.xml), or an older hwcert wrote it")
}

// specsOf reads every It of the report. Spec ids follow the sorted full text, so two reports of
// the same suite give the same ids whatever order Ginkgo ran the specs in.
func specsOf(in Input) ([]Spec, error) {
	var srs []types.SpecReport
	for _, sr := range in.Report.SpecReports {
		if sr.LeafNodeType == types.NodeTypeIt {
			srs = append(srs, sr)
		}
	}
	slices.SortStableFunc(srs, func(a, b types.SpecReport) int {
		return cmp.Or(strings.Compare(a.FullText(), b.FullText()), strings.Compare(a.LeafNodeLocation.String(), b.LeafNodeLocation.String()))
	})
	out := make([]Spec, 0, len(srs))
	for i, sr := range srs {
		sp := Spec{
			ID: fmt.Sprintf("spec-%d", i+1), Text: sr.FullText(), State: stateOf(sr), Labels: sr.Labels(),
			Location: sr.LeafNodeLocation.String(), Seconds: sr.RunTime.Seconds(),
		}
		sp.Family, sp.Aliases = FamilyOf(sp.Labels), AliasesOf(sp.Labels)
		if sp.State == StateSkipped || sp.State == StateFailed {
			sp.Reason = strings.TrimSpace(sr.Failure.Message)
		}
		for _, e := range sr.ReportEntries {
			switch e.Name {
			case EntryPlacement:
				var rec PlacementRecord
				if err := json.Unmarshal([]byte(e.Value.AsJSON), &rec); err != nil {
					return nil, fmt.Errorf("spec %q: report entry %s: %w", sp.Text, EntryPlacement, err)
				}
				if rec.Placement == nil {
					return nil, fmt.Errorf("spec %q: report entry %s: no placement", sp.Text, EntryPlacement)
				}
				sp.Guests = append(sp.Guests, guestOf(rec))
			case EntryEvidence:
				sp.Evidence = append(sp.Evidence, in.Evidence[e.Value.String()]...)
			}
		}
		out = append(out, sp)
	}
	// Failed specs first: they are what a certifier reads.
	slices.SortStableFunc(out, func(a, b Spec) int { return cmp.Compare(rank(a.State), rank(b.State)) })
	return out, nil
}

func rank(state string) int {
	return map[string]int{StateFailed: 0, StatePassed: 1, StateSkipped: 2, StateNotRun: 3}[state]
}

// stateOf maps Ginkgo's states: a skip without a message is a spec the filter left out (Ginkgo
// reports those as skipped too); interrupted, aborted, panicked and timed-out specs failed.
func stateOf(sr types.SpecReport) string {
	switch {
	case sr.State == types.SpecStatePassed:
		return StatePassed
	case sr.State == types.SpecStateSkipped && sr.Failure.Message == "":
		return StateNotRun
	case sr.State == types.SpecStateSkipped:
		return StateSkipped
	case sr.State == types.SpecStatePending:
		return StateNotRun
	default:
		return StateFailed
	}
}

// guestOf reads a placement as the page draws it: a device is local when it sits on one of the
// host nodes the guest's memory is bound to.
func guestOf(rec PlacementRecord) Guest {
	p := rec.Placement
	g := Guest{Host: rec.Host, Server: rec.Server, Domain: p.Domain, HostNodes: p.HostNodes, PCPUs: p.PCPUs}
	for _, d := range p.Devices {
		g.Devices = append(g.Devices, GuestDevice{
			Address: d.Address.String(), ID: d.ID(), Function: d.Function, NUMANode: d.NUMANode,
			Locality: locality(d, p),
		})
	}
	return g
}

func locality(d placement.Device, p *placement.Placement) string {
	switch {
	case d.NUMANode == nil:
		return NoNUMA
	case len(p.HostNodes) == 0:
		return Unbound
	case slices.Contains(p.HostNodes, *d.NUMANode):
		return Local
	default:
		return Remote
	}
}

// judgeCards gives every catalog entry with specs in the run its cells and verdict.
func judgeCards(cat []catalog.Entry, requested []string, specs []Spec, fams []Family) (cards []Card, notRun []string) {
	for _, e := range cat {
		alias := strings.ToLower(e.Alias)
		var mine []Spec
		for _, sp := range specs {
			if slices.Contains(sp.Aliases, alias) {
				mine = append(mine, sp)
			}
		}
		if !slices.ContainsFunc(mine, func(sp Spec) bool { return sp.State != StateNotRun }) {
			notRun = append(notRun, e.Alias)
			continue
		}
		c := Card{
			Alias: e.Alias, DisplayName: e.DisplayName, ID: e.ID(), Function: e.Function, Supported: e.PassthroughSupported,
			Requested: slices.ContainsFunc(requested, func(r string) bool { return strings.EqualFold(r, e.Alias) }),
		}
		for _, sp := range mine {
			c.Specs = append(c.Specs, sp.ID)
		}
		for _, f := range fams {
			c.Cells = append(c.Cells, cellOf(f.Key, mine))
		}
		c.Verdict, c.Criteria = judge(e, mine, fams)
		cards = append(cards, c)
	}
	slices.SortStableFunc(cards, func(a, b Card) int {
		if a.Requested == b.Requested {
			return 0
		}
		if a.Requested {
			return -1
		}
		return 1
	})
	return cards, notRun
}

// cellOf adds up a family's specs: failed wins, then passed, then skipped, then not run.
func cellOf(family string, specs []Spec) Cell {
	c := Cell{Family: family}
	var reasons []string
	best := 99
	n := map[string]int{}
	for _, sp := range specs {
		if sp.Family != family {
			continue
		}
		n[sp.State]++
		c.Specs = append(c.Specs, sp.ID)
		if r := rank(sp.State); r < best {
			best, c.State = r, sp.State
		}
		if sp.State == StateSkipped && !slices.Contains(reasons, sp.Reason) {
			reasons = append(reasons, sp.Reason)
		}
	}
	c.Reason = strings.Join(reasons, "; ")
	var counts []string
	for _, st := range []string{StateFailed, StatePassed, StateSkipped, StateNotRun} {
		if n[st] > 0 {
			counts = append(counts, fmt.Sprintf("%d %s", n[st], st))
		}
	}
	c.Counts = strings.Join(counts, ", ")
	return c
}

// judge applies the certification criteria to a card's specs:
//   - every positive spec that ran passed (the devices were attached, on the right nodes);
//   - every negative spec refused the request as expected;
//   - no spec of a required family was skipped or left out, and each such family ran a spec
//     (for an alias whose passthrough is not supported, only the refusals are required).
//
// A failed spec makes the card not certified; otherwise a missing required spec makes it not
// testable on this lab; otherwise it is certified (refused as unsupported for an alias whose
// passthrough is not supported).
func judge(e catalog.Entry, specs []Spec, fams []Family) (string, []Criterion) {
	positive := Criterion{Rule: "every positive spec that ran passed", Met: true}
	negative := Criterion{Rule: "every negative spec saw the request refused as expected", Met: true}
	var reqNames []string
	for _, f := range fams {
		if f.Required && (e.PassthroughSupported || f.Key == FamilyNegative) {
			reqNames = append(reqNames, f.Title)
		}
	}
	required := Criterion{Rule: "no required spec skipped or left out (" + strings.Join(reqNames, "; ") + ")", Met: true}
	ran := map[string]bool{}
	for _, sp := range specs {
		if sp.State == StateFailed {
			if sp.Family == FamilyNegative {
				negative.Met = false
				negative.Specs = append(negative.Specs, sp.ID)
			} else {
				positive.Met = false
				positive.Specs = append(positive.Specs, sp.ID)
			}
		}
		if sp.State == StatePassed || sp.State == StateFailed {
			ran[sp.Family] = true
		}
		if isRequired(e, sp.Family, fams) && (sp.State == StateSkipped || sp.State == StateNotRun) {
			required.Met = false
			required.Specs = append(required.Specs, sp.ID)
		}
	}
	for _, f := range fams {
		if isRequired(e, f.Key, fams) && !ran[f.Key] {
			required.Met = false
		}
	}
	crit := []Criterion{positive, negative, required}
	switch {
	case !positive.Met || !negative.Met:
		return NotCertified, crit
	case !required.Met:
		return NotTestable, crit
	case !e.PassthroughSupported:
		return RefusedAsUnsupported, crit
	default:
		return Certified, crit
	}
}

func isRequired(e catalog.Entry, family string, fams []Family) bool {
	for _, f := range fams {
		if f.Key == family {
			return f.Required && (e.PassthroughSupported || f.Key == FamilyNegative)
		}
	}
	return false
}
