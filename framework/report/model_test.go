package report

import (
	"strings"
	"testing"

	"github.com/onsi/ginkgo/v2/types"

	"github.com/hwcert/hwcert/config"
	"github.com/hwcert/hwcert/framework/catalog"
)

func TestFamilyOf(t *testing.T) {
	for _, tc := range []struct {
		labels []string
		want   string
	}{
		{[]string{"passthrough", "alias:gpu", "gpu"}, FamilyOneDevice},
		{[]string{"passthrough", "multi-device", "alias:gpu"}, FamilySeveral},
		{[]string{"numa", "dedicated-cpus", "policy:required"}, "required" + familyOneNodeSuffix},
		{[]string{"numa", "policy:legacy", "two-node-guest"}, "legacy" + familyTwoNodeSuffix},
		{[]string{"numa", "policy:preferred", "no-numa-device"}, FamilyNoNUMADevice},
		{[]string{"numa", "policy:required", "two-node-guest", "numa-reading:per-guest-node"}, FamilyPerGuestNode},
		// The negative suite's policy specs are refusals first.
		{[]string{"negative", "numa", "multi-device", "policy:socket"}, FamilyNegative},
		{[]string{"Negative"}, FamilyNegative},
		{[]string{"serial"}, ""},
	} {
		if got := FamilyOf(tc.labels); got != tc.want {
			t.Errorf("FamilyOf(%v) = %q, want %q", tc.labels, got, tc.want)
		}
	}
}

// spec builds an It of a report; reason is a skip reason or failure message.
func spec(text string, state types.SpecState, reason string, labels ...string) types.SpecReport {
	return types.SpecReport{
		LeafNodeType: types.NodeTypeIt, LeafNodeText: text, LeafNodeLabels: labels, State: state,
		Failure: types.Failure{Message: reason},
	}
}

// withLab is a report of the given specs whose setup recorded a lab with the catalog.
func withLab(cat []catalog.Entry, specs ...types.SpecReport) types.Report {
	setup := types.SpecReport{LeafNodeType: types.NodeTypeSynchronizedBeforeSuite, ReportEntries: []types.ReportEntry{{
		Name: EntryLab, Value: types.WrapEntryValue(Lab{RunID: "r1", Cloud: "lab", Catalog: cat, Config: config.Config{Image: "cirros"}}),
	}}}
	r := types.Report{SpecReports: append([]types.SpecReport{setup}, specs...)}
	// Build reads entries as report.json holds them: marshalled.
	for i := range r.SpecReports {
		for j, e := range r.SpecReports[i].ReportEntries {
			b, err := e.Value.MarshalJSON()
			if err != nil {
				panic(err)
			}
			if err := r.SpecReports[i].ReportEntries[j].Value.UnmarshalJSON(b); err != nil {
				panic(err)
			}
		}
	}
	return r
}

var (
	vf = catalog.Entry{Alias: "qat-vf", VendorID: "8086", ProductID: "37c9", Function: "vf", PassthroughSupported: true}
	pf = catalog.Entry{Alias: "qat-pf", VendorID: "8086", ProductID: "37c8", Function: "pf", UnsupportedReason: "not supported"}
)

// fullVF are passing specs of every required family of the supported alias.
func fullVF() []types.SpecReport {
	out := []types.SpecReport{
		spec("one vf", types.SpecStatePassed, "", "passthrough", "alias:qat-vf"),
		spec("more than any host", types.SpecStatePassed, "", "negative", "alias:qat-vf"),
	}
	for _, p := range []string{"required", "legacy", "preferred", "socket"} {
		out = append(out, spec(p+" one node", types.SpecStatePassed, "", "numa", "policy:"+p, "alias:qat-vf"))
	}
	return out
}

func TestVerdicts(t *testing.T) {
	for _, tc := range []struct {
		name  string
		cat   []catalog.Entry
		specs []types.SpecReport
		want  map[string]string // alias → verdict
		unmet []string          // rules (prefix) not met, of the first card
	}{
		{name: "every required family passed", cat: []catalog.Entry{vf}, specs: fullVF(),
			want: map[string]string{"qat-vf": Certified}},
		{name: "an optional family skipped is no obstacle", cat: []catalog.Entry{vf},
			specs: append(fullVF(), spec("no numa", types.SpecStateSkipped, "no host offers it", "numa", "no-numa-device", "policy:legacy", "alias:qat-vf")),
			want:  map[string]string{"qat-vf": Certified}},
		{name: "a failed positive spec", cat: []catalog.Entry{vf},
			specs: append(fullVF(), spec("two node", types.SpecStateFailed, "remote device", "numa", "policy:legacy", "two-node-guest", "alias:qat-vf")),
			want:  map[string]string{"qat-vf": NotCertified}, unmet: []string{"every positive"}},
		{name: "a failed refusal", cat: []catalog.Entry{vf},
			specs: append(fullVF(), spec("host without", types.SpecStateFailed, "ACTIVE", "negative", "alias:qat-vf")),
			want:  map[string]string{"qat-vf": NotCertified}, unmet: []string{"every negative"}},
		{name: "a required spec skipped", cat: []catalog.Entry{vf},
			specs: append(fullVF(), spec("strict picks", types.SpecStateSkipped, "no host has devices on two nodes", "numa", "policy:socket", "alias:qat-vf")),
			want:  map[string]string{"qat-vf": NotTestable}, unmet: []string{"no required spec"}},
		{name: "a required family never ran", cat: []catalog.Entry{vf}, specs: fullVF()[:2],
			want: map[string]string{"qat-vf": NotTestable}, unmet: []string{"no required spec"}},
		{name: "a failure outweighs a skip", cat: []catalog.Entry{vf},
			specs: []types.SpecReport{spec("one vf", types.SpecStateFailed, "wrong device", "passthrough", "alias:qat-vf")},
			want:  map[string]string{"qat-vf": NotCertified}, unmet: []string{"every positive", "no required spec"}},
		{name: "an unsupported alias needs only its refusal",
			cat:   []catalog.Entry{pf, vf},
			specs: append(fullVF(), spec("pf refused", types.SpecStatePassed, "", "negative", "alias:qat-pf")),
			want:  map[string]string{"qat-pf": RefusedAsUnsupported, "qat-vf": Certified}},
		{name: "a timed-out spec failed", cat: []catalog.Entry{vf},
			specs: append(fullVF(), spec("slow", types.SpecStateTimedout, "timeout", "passthrough", "alias:qat-vf")),
			want:  map[string]string{"qat-vf": NotCertified}, unmet: []string{"every positive"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s, err := Build(Input{Report: withLab(tc.cat, tc.specs...)})
			if err != nil {
				t.Fatal(err)
			}
			got := map[string]string{}
			for _, c := range s.Cards {
				got[c.Alias] = c.Verdict
			}
			for a, v := range tc.want {
				if got[a] != v {
					t.Errorf("%s: verdict %q, want %q (criteria %+v)", a, got[a], v, s.Cards)
				}
			}
			if len(got) != len(tc.want) {
				t.Errorf("cards %v, want %v", got, tc.want)
			}
			var unmet []string
			for _, c := range s.Cards[0].Criteria {
				if !c.Met {
					unmet = append(unmet, c.Rule)
					if c.Rule != s.Cards[0].Criteria[2].Rule && len(c.Specs) == 0 {
						t.Errorf("unmet %q names no spec", c.Rule)
					}
				}
			}
			if len(unmet) != len(tc.unmet) {
				t.Fatalf("unmet criteria %q, want ones starting %q", unmet, tc.unmet)
			}
			for i, u := range tc.unmet {
				if !strings.HasPrefix(unmet[i], u) {
					t.Errorf("unmet criterion %q, want one starting %q", unmet[i], u)
				}
			}
		})
	}
}

func TestMatrixCells(t *testing.T) {
	specs := append(fullVF(),
		spec("strict picks", types.SpecStateSkipped, "no host has devices on two nodes", "numa", "policy:required", "alias:qat-vf"),
		spec("not selected", types.SpecStateSkipped, "", "passthrough", "multi-device", "alias:qat-vf"),
		spec("lab-wide", types.SpecStatePassed, "", "negative"))
	s, err := Build(Input{Report: withLab([]catalog.Entry{vf}, specs...)})
	if err != nil {
		t.Fatal(err)
	}
	cells := map[string]Cell{}
	for _, c := range s.Cards[0].Cells {
		cells[c.Family] = c
	}
	for fam, want := range map[string]Cell{
		FamilyOneDevice:                  {State: StatePassed, Counts: "1 passed"},
		FamilySeveral:                    {State: StateNotRun, Counts: "1 not run"},
		"required" + familyOneNodeSuffix: {State: StatePassed, Counts: "1 passed, 1 skipped", Reason: "no host has devices on two nodes"},
		"required" + familyTwoNodeSuffix: {},
		FamilyNegative:                   {State: StatePassed, Counts: "1 passed"},
	} {
		got := cells[fam]
		if got.State != want.State || got.Counts != want.Counts || got.Reason != want.Reason {
			t.Errorf("cell %s: %+v, want state %q counts %q reason %q", fam, got, want.State, want.Counts, want.Reason)
		}
	}
	if len(s.Cards[0].Specs) != len(specs)-1 {
		t.Errorf("card has %d specs, want %d (the lab-wide refusal is no card's)", len(s.Cards[0].Specs), len(specs)-1)
	}
	if s.Run.Counts != (Counts{Passed: 7, Skipped: 1, NotRun: 1}) {
		t.Errorf("counts %+v", s.Run.Counts)
	}
}

func TestSpecsFailedFirstWithStableIDs(t *testing.T) {
	a := spec("b passes", types.SpecStatePassed, "", "passthrough", "alias:qat-vf")
	b := spec("a fails", types.SpecStateFailed, "boom", "passthrough", "alias:qat-vf")
	for _, order := range [][]types.SpecReport{{a, b}, {b, a}} {
		s, err := Build(Input{Report: withLab([]catalog.Entry{vf}, order...)})
		if err != nil {
			t.Fatal(err)
		}
		if s.Specs[0].Text != "a fails" || s.Specs[0].ID != "spec-1" || s.Specs[1].ID != "spec-2" || s.Specs[0].Reason != "boom" {
			t.Errorf("specs %+v: want the failed one first, ids by text", s.Specs)
		}
	}
}

func TestBuildWithoutLab(t *testing.T) {
	_, err := Build(Input{Report: types.Report{SpecReports: []types.SpecReport{spec("x", types.SpecStatePassed, "")}}})
	if err == nil || !strings.Contains(err.Error(), EntryLab) {
		t.Fatalf("err %v, want one naming the missing %s entry", err, EntryLab)
	}
}

func TestRedactConfig(t *testing.T) {
	cfg := config.Config{Hypervisors: config.Hypervisors{
		URITemplate: "qemu+tcp://admin:s3cret@{host}/system",
		Hosts: map[string]string{
			"a": "qemu+ssh://sysadmin@a/system?keyfile=/k",
			"b": "qemu+tls://b/system?password=hunter2&no_verify=1",
		},
	}}
	out := RedactConfig(cfg)
	for _, u := range append([]string{out.Hypervisors.URITemplate}, out.Hypervisors.Hosts["a"], out.Hypervisors.Hosts["b"]) {
		if strings.Contains(u, "s3cret") || strings.Contains(u, "hunter2") {
			t.Errorf("secret left in %q", u)
		}
	}
	if out.Hypervisors.URITemplate != "qemu+tcp://admin:REDACTED@{host}/system" {
		t.Errorf("template %q", out.Hypervisors.URITemplate)
	}
	if out.Hypervisors.Hosts["a"] != cfg.Hypervisors.Hosts["a"] {
		t.Errorf("a URI without secrets changed: %q", out.Hypervisors.Hosts["a"])
	}
	if cfg.Hypervisors.Hosts["b"] != "qemu+tls://b/system?password=hunter2&no_verify=1" {
		t.Errorf("RedactConfig changed its argument")
	}
}
