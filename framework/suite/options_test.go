package suite

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestCurrentOptionsFromEnvironment(t *testing.T) {
	t.Setenv(EnvLab, "aio")
	t.Setenv(EnvFaults, "numa-misplace, drop-hostdev,")
	t.Setenv(EnvBootLatency, "150ms")
	o := CurrentOptions()
	if o.Lab != "aio" || len(o.Faults) != 2 || o.Faults[1] != "drop-hostdev" || o.BootLatency == nil || *o.BootLatency != 150*time.Millisecond || o.err != nil {
		t.Fatalf("CurrentOptions() = %+v", o)
	}
	for _, bad := range []string{"soon", "-1s"} {
		t.Setenv(EnvBootLatency, bad)
		if o := CurrentOptions(); o.err == nil || !strings.Contains(o.err.Error(), EnvBootLatency+`="`+bad+`"`) {
			t.Errorf("%s=%q: err = %v, want one naming the variable and the value", EnvBootLatency, bad, o.err)
		}
	}
}

func TestCallerDirIsTheModuleRoot(t *testing.T) {
	// go test runs this in framework/suite; the module root is two levels up.
	wd, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	if got, want := callerDir(), filepath.Dir(filepath.Dir(wd)); got != want {
		t.Errorf("callerDir() = %q, want the module root %q", got, want)
	}
	if got := CurrentOptions().LabBaseDir; got != callerDir() {
		t.Errorf("CurrentOptions().LabBaseDir = %q, want %q", got, callerDir())
	}
	outside := t.TempDir()
	t.Chdir(outside)
	if got := callerDir(); got != outside {
		t.Errorf("outside a module: callerDir() = %q, want the working directory %q", got, outside)
	}
}
