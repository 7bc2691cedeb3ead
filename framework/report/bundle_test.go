package report

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/onsi/ginkgo/v2/types"

	"github.com/hwcert/hwcert/framework/catalog"
)

// A bundle written by WriteBundle verifies with sha256sum -c, covers the evidence, and stops
// verifying once a file of it changes.
func TestWriteBundleManifest(t *testing.T) {
	dir := t.TempDir()
	failed := spec("one vf", types.SpecStateFailed, "wrong device", "passthrough", "alias:qat-vf")
	// The run recorded the evidence directory where it was then; the bundle has moved since.
	failed.ReportEntries = []types.ReportEntry{{Name: EntryEvidence, Value: types.WrapEntryValue("/elsewhere/evidence/one_vf-p1")}}
	r := withLab([]catalog.Entry{vf}, failed)
	data, err := json.Marshal([]types.Report{r})
	if err != nil {
		t.Fatal(err)
	}
	ev := filepath.Join(dir, DirEvidence, "one_vf-p1", "vm1")
	for path, body := range map[string]string{
		filepath.Join(dir, FileReport):  string(data),
		filepath.Join(ev, "domain.xml"): "<domain/>",
	} {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	s, err := WriteBundle(dir)
	if err != nil {
		t.Fatal(err)
	}
	if got := s.Specs[0].Evidence; len(got) != 1 || got[0] != "evidence/one_vf-p1/vm1/domain.xml" {
		t.Errorf("evidence %v, want the file under the bundle", got)
	}
	manifest, err := os.ReadFile(filepath.Join(dir, FileManifest))
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range []string{FileIndex, FileSummary, FileReport, "evidence/one_vf-p1/vm1/domain.xml"} {
		if !strings.Contains(string(manifest), "  "+f+"\n") {
			t.Errorf("manifest lacks %s:\n%s", f, manifest)
		}
	}
	check := func() error {
		cmd := exec.Command("sha256sum", "--quiet", "-c", FileManifest)
		cmd.Dir = dir
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Logf("sha256sum: %s", out)
		}
		return err
	}
	if err := check(); err != nil {
		t.Fatalf("sha256sum -c of a fresh bundle: %v", err)
	}
	if err := os.WriteFile(filepath.Join(ev, "domain.xml"), []byte("<domain>edited</domain>"), 0o644); err != nil {
		t.Fatal(err)
	}
	if check() == nil {
		t.Fatal("sha256sum -c accepts an edited evidence file")
	}
}

func TestWriteBundleErrors(t *testing.T) {
	dir := t.TempDir()
	if _, err := WriteBundle(dir); err == nil || !strings.Contains(err.Error(), FileReport) {
		t.Errorf("no report.json: err %v, want one naming it", err)
	}
	if err := os.WriteFile(filepath.Join(dir, FileReport), []byte("{"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := WriteBundle(dir); err == nil || !strings.Contains(err.Error(), "expected the JSON report") {
		t.Errorf("bad report.json: err %v", err)
	}
}
