package mockboot

import (
	"encoding/json"
	"errors"
	"io"
	"os/exec"
	"strings"
	"testing"
)

// TestHarnessAndMockShareNoCode keeps the line between the two sides: no package under
// framework/, suites/ or config/ imports the mock (or fixtures/labs, the mock's lab loader) except
// this one, and no package under mock/ imports the harness. A parser or scheduler bug shared by
// both would make the mock and the verdict agree on a wrong answer. The only word they share is
// config/vocab, which holds names and no logic.
func TestHarnessAndMockShareNoCode(t *testing.T) {
	out, err := exec.Command("go", "list", "-json=ImportPath,Imports", "github.com/hwcert/hwcert/...").Output()
	if err != nil {
		var ee *exec.ExitError
		if errors.As(err, &ee) {
			t.Fatalf("go list: %v\n%s", err, ee.Stderr)
		}
		t.Fatalf("go list: %v", err)
	}
	const mod = "github.com/hwcert/hwcert/"
	under := func(pkg string, dirs ...string) bool {
		for _, d := range dirs {
			if pkg == mod+d || strings.HasPrefix(pkg, mod+d+"/") {
				return true
			}
		}
		return false
	}
	self := mod + "framework/mockboot"
	dec := json.NewDecoder(strings.NewReader(string(out)))
	packages := 0
	for {
		var p struct {
			ImportPath string
			Imports    []string
		}
		if err := dec.Decode(&p); errors.Is(err, io.EOF) {
			break
		} else if err != nil {
			t.Fatal(err)
		}
		packages++
		for _, imp := range p.Imports {
			switch {
			case under(p.ImportPath, "framework", "suites", "config") && p.ImportPath != self && under(imp, "mock", "fixtures/labs"):
				t.Errorf("%s imports %s: only %s may start the mock; the harness reaches it over the wire", p.ImportPath, imp, self)
			case under(p.ImportPath, "mock") && under(imp, "framework", "suites"):
				t.Errorf("%s imports %s: the mock must not share the harness's code", p.ImportPath, imp)
			}
		}
	}
	if packages < 20 {
		t.Fatalf("go list listed only %d packages; the check would prove nothing", packages)
	}
}
