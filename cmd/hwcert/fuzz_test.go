package main

import (
	"strings"
	"testing"
)

// FuzzRunFlags feeds arbitrary flags and values to `hwcert run --dry-run` (which checks every
// flag, the lab, the catalog and the label filter, then lists specs without running any): it must
// never panic or hang, and it exits 0 or 2, never 1 ("a spec failed") for bad input.
func FuzzRunFlags(f *testing.F) {
	for _, s := range []string{
		"--label-filter negative", "--label-filter policy: containsAny {required,socket}", "--lab aio",
		"--lab ./missing.yaml", "--mock-fault bogus", "--timeout 0", "--procs -1", "--card qat-c62x-vf",
		"--label-filter /[/", "--mock-chaos api-5xx:2", "--retry-lab-errors -3", "--mock-boot-latency x",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, args string) {
		fields := strings.Fields(args)
		for _, a := range fields {
			// Flags that name files or the report dir are fuzzed by the loaders' own targets.
			if strings.HasPrefix(a, "--config") || strings.HasPrefix(a, "--report-dir") || strings.HasPrefix(a, "--worker") {
				return
			}
		}
		argv := append([]string{"run", "--dry-run", "--report-dir", t.TempDir()}, fields...)
		if _, code := runCommand(t, argv...); code != 0 && code != exitUsage {
			t.Fatalf("hwcert %q: exit %d, want 0 or %d", argv, code, exitUsage)
		}
	})
}
