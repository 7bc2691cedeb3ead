package placement

import (
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite golden files under testdata/")

// loadCase reads testdata/<name>: domain.xml, caps.xml and one pci_*.xml per node device.
func loadCase(t testing.TB, name string) (string, map[Address]string, string) {
	t.Helper()
	dir := filepath.Join("testdata", name)
	read := func(f string) string {
		b, err := os.ReadFile(filepath.Join(dir, f))
		if err != nil {
			t.Fatal(err)
		}
		return string(b)
	}
	devs := map[Address]string{}
	files, err := filepath.Glob(filepath.Join(dir, "pci_*.xml"))
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range files {
		// pci_0000_3d_01_2.xml -> 0000:3d:01.2
		p := strings.Split(strings.TrimSuffix(filepath.Base(f), ".xml"), "_")
		a, err := ParseAddress(p[1] + ":" + p[2] + ":" + p[3] + "." + p[4])
		if err != nil {
			t.Fatal(err)
		}
		devs[a] = read(filepath.Base(f))
	}
	return read("domain.xml"), devs, read("caps.xml")
}

func caseNames(t testing.TB) []string {
	ents, err := os.ReadDir("testdata")
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, e := range ents {
		if e.IsDir() && !strings.HasPrefix(e.Name(), "fuzz") {
			out = append(out, e.Name())
		}
	}
	return out
}

// TestGolden builds every case under testdata/ and compares the placement, as JSON, with
// testdata/<case>/placement.golden.json (go test -update rewrites them).
func TestGolden(t *testing.T) {
	for _, name := range caseNames(t) {
		t.Run(name, func(t *testing.T) {
			dom, devs, caps := loadCase(t, name)
			p, err := Build(dom, devs, caps)
			if err != nil {
				t.Fatalf("Build: %v", err)
			}
			got, err := json.MarshalIndent(p, "", "  ")
			if err != nil {
				t.Fatal(err)
			}
			got = append(got, '\n')
			golden := filepath.Join("testdata", name, "placement.golden.json")
			if *update {
				if err := os.WriteFile(golden, got, 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatalf("%v (run go test -update to create it)", err)
			}
			if string(got) != string(want) {
				t.Errorf("placement differs from %s (go test -update rewrites it after review)\ngot:\n%s", golden, got)
			}
		})
	}
}
