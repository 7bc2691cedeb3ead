package report

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/onsi/ginkgo/v2/types"
)

// Files of the bundle, in the report directory.
const (
	FileIndex    = "index.html"
	FileSummary  = "summary.json"
	FileManifest = "MANIFEST.sha256"
	FileReport   = "report.json"
	FileJUnit    = "junit.xml"
	DirEvidence  = "evidence"
)

// WriteBundle reads dir/report.json and the evidence under dir, and writes dir/index.html,
// dir/summary.json and, last, dir/MANIFEST.sha256 over every file of the bundle (the two it
// wrote, report.json, junit.xml when there, and every evidence file). It returns the summary.
func WriteBundle(dir string) (*Summary, error) {
	path := filepath.Join(dir, FileReport)
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("reading the run's report: %w", err)
	}
	var reports []types.Report
	if err := json.Unmarshal(data, &reports); err != nil {
		return nil, fmt.Errorf("%s: %w (expected the JSON report Ginkgo writes)", path, err)
	}
	if len(reports) != 1 {
		return nil, fmt.Errorf("%s: %d suite reports, expected the 1 that hwcert run writes", path, len(reports))
	}
	in := Input{Report: reports[0], Evidence: map[string][]string{}}
	for _, sr := range in.Report.SpecReports {
		for _, e := range sr.ReportEntries {
			if e.Name != EntryEvidence {
				continue
			}
			// The entry holds the directory as the run saw it; the bundle may have moved since,
			// and the evidence is wherever the bundle is now.
			files, err := listFiles(dir, filepath.Join(DirEvidence, filepath.Base(e.Value.String())))
			if err != nil {
				return nil, fmt.Errorf("evidence of %q: %w", sr.FullText(), err)
			}
			in.Evidence[e.Value.String()] = files
		}
	}
	s, err := Build(in)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	summary, err := json.MarshalIndent(s, "", "  ")
	if err != nil {
		return nil, fmt.Errorf("summary.json: %w", err)
	}
	page, err := HTML(s)
	if err != nil {
		return nil, err
	}
	for name, body := range map[string][]byte{FileSummary: append(summary, '\n'), FileIndex: page} {
		if err := os.WriteFile(filepath.Join(dir, name), body, 0o644); err != nil {
			return nil, fmt.Errorf("writing the bundle: %w", err)
		}
	}
	files := []string{FileIndex, FileSummary, FileReport}
	if _, err := os.Stat(filepath.Join(dir, FileJUnit)); err == nil {
		files = append(files, FileJUnit)
	}
	ev, err := listFiles(dir, DirEvidence)
	if err != nil {
		return nil, err
	}
	manifest, err := Manifest(dir, append(files, ev...))
	if err != nil {
		return nil, err
	}
	if err := os.WriteFile(filepath.Join(dir, FileManifest), manifest, 0o644); err != nil {
		return nil, fmt.Errorf("writing the bundle: %w", err)
	}
	return s, nil
}

// listFiles lists the regular files under dir/sub, relative to dir with forward slashes, sorted;
// none when dir/sub does not exist.
func listFiles(dir, sub string) ([]string, error) {
	var out []string
	err := filepath.WalkDir(filepath.Join(dir, sub), func(p string, d fs.DirEntry, err error) error {
		if errors.Is(err, fs.ErrNotExist) && p == filepath.Join(dir, sub) {
			return fs.SkipAll
		}
		if err != nil {
			return err
		}
		if d.Type().IsRegular() {
			rel, err := filepath.Rel(dir, p)
			if err != nil {
				return err
			}
			out = append(out, filepath.ToSlash(rel))
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("listing %s: %w", filepath.Join(dir, sub), err)
	}
	slices.Sort(out)
	return out, nil
}

// Manifest is the sha256sum(1) listing of files (relative to dir): "<hex>  <path>" a line,
// sorted by path, so `cd dir && sha256sum -c MANIFEST.sha256` verifies the bundle.
func Manifest(dir string, files []string) ([]byte, error) {
	files = slices.Clone(files)
	slices.Sort(files)
	var b bytes.Buffer
	for _, f := range slices.Compact(files) {
		if strings.ContainsAny(f, "\\\n") {
			// sha256sum escapes such names, and a certifier's check would then not match.
			return nil, fmt.Errorf("manifest: file name %q: expected no backslash or newline", f)
		}
		fh, err := os.Open(filepath.Join(dir, filepath.FromSlash(f)))
		if err != nil {
			return nil, fmt.Errorf("manifest: %w", err)
		}
		h := sha256.New()
		_, err = io.Copy(h, fh)
		fh.Close()
		if err != nil {
			return nil, fmt.Errorf("manifest: reading %s: %w", f, err)
		}
		fmt.Fprintf(&b, "%s  %s\n", hex.EncodeToString(h.Sum(nil)), f)
	}
	return b.Bytes(), nil
}
