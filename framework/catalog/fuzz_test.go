package catalog

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// FuzzParse: no input may panic, and every accepted entry is normalised and findable.
func FuzzParse(f *testing.F) {
	files, _ := filepath.Glob(filepath.Join("..", "..", "fixtures", "devices", "*.yaml"))
	for _, file := range files {
		data, err := os.ReadFile(file)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
	}
	f.Add([]byte("devices:\n  - {alias: a, vendor_id: \"0x8086\", product_id: \"37C9\", function: vf, kind: qat}\n"))
	hex4 := regexp.MustCompile(`^[0-9a-f]{4}$`)
	f.Fuzz(func(t *testing.T, data []byte) {
		c, err := Parse("fuzz.yaml", data)
		if err != nil {
			if !strings.HasPrefix(err.Error(), "device catalog fuzz.yaml") {
				t.Fatalf("error does not name the file: %v", err)
			}
			return
		}
		for _, e := range c.Entries() {
			if !hex4.MatchString(e.VendorID) || !hex4.MatchString(e.ProductID) {
				t.Fatalf("entry %s: IDs %s", e.Alias, e.ID())
			}
			if got, ok := c.Lookup(e.Alias); !ok || got.Alias != e.Alias {
				t.Fatalf("Lookup(%q) failed", e.Alias)
			}
			if !e.PassthroughSupported && e.UnsupportedReason == "" {
				t.Fatalf("entry %s: unsupported without reason", e.Alias)
			}
			if !e.Matches("0x"+strings.ToUpper(e.VendorID), e.ProductID) {
				t.Fatalf("entry %s does not match its own IDs", e.Alias)
			}
		}
		if len(c.Supported())+len(c.Unsupported()) != len(c.Entries()) {
			t.Fatal("Supported and Unsupported do not partition the catalog")
		}
	})
}
