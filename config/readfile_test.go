package config

import (
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// Inputs a new user gives by mistake: each is a clear error naming the file, never a hang, an
// out-of-memory or a silently ignored part.
func TestReadYAMLFileRefusals(t *testing.T) {
	dir := t.TempDir()
	fifo := filepath.Join(dir, "fifo.yaml")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Fatal(err)
	}
	two := filepath.Join(dir, "two.yaml")
	if err := os.WriteFile(two, []byte("cloud: a\n---\ncloud: b\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	big := filepath.Join(dir, "big.yaml")
	if err := os.WriteFile(big, make([]byte, MaxFileSize+1), 0o600); err != nil {
		t.Fatal(err)
	}
	cases := map[string]struct{ path, want string }{
		"FIFO":            {fifo, "named pipe"},
		"/dev/zero":       {"/dev/zero", "device"},
		"directory":       {dir, "directory"},
		"second document": {two, "second YAML document"},
		"oversized":       {big, "larger than"},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			done := make(chan error, 1)
			go func() { _, err := Load(c.path); done <- err }()
			select {
			case err := <-done:
				if err == nil || !strings.Contains(err.Error(), c.want) || !strings.Contains(err.Error(), c.path) {
					t.Errorf("Load(%s): %v; want an error naming the file and %q", c.path, err, c.want)
				}
			case <-time.After(5 * time.Second):
				t.Fatalf("Load(%s) hung", c.path)
			}
		})
	}
}

func TestSingleDocumentAcceptsOne(t *testing.T) {
	for _, y := range []string{"cloud: a\n", "---\ncloud: a\n", "# only a comment\n", ""} {
		if err := SingleDocument([]byte(y)); err != nil {
			t.Errorf("SingleDocument(%q): %v", y, err)
		}
	}
}
