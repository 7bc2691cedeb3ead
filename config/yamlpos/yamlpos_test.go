package yamlpos

import (
	"errors"
	"strings"
	"testing"
)

const doc = `name: lab
hosts:
  - name: a
    pci_devices:
      - address: "0000:3d:00.0"
        product_id: 0443
  - name: b
    pci_devices:
      - {address: "0000:af:00.0", product_id: "1b38", bogus: 1}
`

func TestWhere(t *testing.T) {
	d := Parse([]byte(doc))
	tests := []struct{ path, want string }{
		{"name", " (line 1, column 7)"},
		{"hosts[0].pci_devices[0].address", " (line 5, column 18)"},
		{"hosts[0].pci_devices[0].product_id", ` (line 6, column 21); YAML reads the unquoted 0443 as a number: write it quoted, "0443"`},
		{"hosts[1].pci_devices[0].product_id", " (line 9, column 47)"},
		{"hosts[1]", " (line 7, column 5)"},
		{"hosts[2].name", ""},
		{"nope", ""},
		{"hosts.name", ""},
	}
	for _, tt := range tests {
		if got := d.Where(tt.path); got != tt.want {
			t.Errorf("Where(%q) = %q, want %q", tt.path, got, tt.want)
		}
	}
}

func TestAnnotate(t *testing.T) {
	d := Parse([]byte(doc))
	named := d.Annotate(errors.New("hosts[1] (b): pci_devices[0].product_id: x: y"))
	if want := "hosts[1] (b): pci_devices[0].product_id: x: y (line 9, column 47)"; named.Error() != want {
		t.Errorf("Annotate of a named element = %q, want %q", named, want)
	}
	base := errors.New("hosts[0].pci_devices[0].product_id: 291: expected 4 hex digits\nerror unmarshaling JSON: json: unknown field \"bogus\"\nnot a path line")
	got := d.Annotate(base)
	want := "hosts[0].pci_devices[0].product_id: 291: expected 4 hex digits (line 6, column 21); YAML reads the unquoted 0443 as a number: write it quoted, \"0443\"\n" +
		"error unmarshaling JSON: json: unknown field \"bogus\" (line 9, column 55)\nnot a path line"
	if got.Error() != want {
		t.Errorf("Annotate =\n%s\nwant\n%s", got, want)
	}
	if !errors.Is(got, base) {
		t.Error("the annotated error does not unwrap to the original")
	}
	if d.Annotate(nil) != nil {
		t.Error("Annotate(nil) != nil")
	}
	if e := errors.New("plain"); d.Annotate(e) != e {
		t.Error("an error with nothing to point at was rewrapped")
	}
	if e := errors.New("name: x"); Parse([]byte("a: [")).Annotate(e) != e {
		t.Error("a document that does not parse points at nothing")
	}
}

func FuzzWhere(f *testing.F) {
	f.Add(doc, "hosts[0].pci_devices[0].product_id")
	f.Add("a: [1, 2]\n", "a[5]")
	f.Fuzz(func(t *testing.T, data, path string) {
		d := Parse([]byte(data))
		_ = d.Where(path)
		if err := d.Annotate(errors.New(path + ": x")); err == nil || !strings.HasPrefix(err.Error(), path+": x") {
			t.Fatalf("Annotate changed the message's start: %v", err)
		}
	})
}
