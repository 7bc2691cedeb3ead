package main

import "testing"

// Usage mistakes exit 2, like a bad config: CI must tell "the harness was called wrong" from
// "a spec failed" (1).
func TestUsageMistakesExit2(t *testing.T) {
	for _, args := range [][]string{
		{"bogus"},                 // unknown command
		{"run", "--bogus"},        // unknown flag
		{"version", "extra"},      // positional argument where none is taken
		{"run", "--timeout", "x"}, // malformed flag value
		{"run", "extra"},          // a positional argument (a label filter split by the shell)
	} {
		if _, code := runCommand(t, args...); code != exitUsage {
			t.Errorf("hwcert %v: exit %d, want %d", args, code, exitUsage)
		}
	}
	if _, code := runCommand(t); code != 0 {
		t.Errorf("hwcert without a command: exit %d, want 0 (help)", code)
	}
}
