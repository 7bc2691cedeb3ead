package suite

import (
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
