package main

import (
	"strings"
	"testing"

	"github.com/hwcert/hwcert/framework/catalog"
)

func TestCardFilter(t *testing.T) {
	cat, err := catalog.Default()
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		filter string
		cards  []string
		want   string
		errSub string
	}{
		{filter: "numa", want: "numa"},
		{cards: []string{"qat-c62x-vf"}, want: "alias:qat-c62x-vf"},
		{filter: "numa || negative", cards: []string{"gpu", "qat-c62x-vf"}, want: "(numa || negative) && (alias:gpu || alias:qat-c62x-vf)"},
		{cards: []string{"no-such-card"}, errSub: `--card "no-such-card": not a catalog alias (known: `},
	} {
		got, err := cardFilter(cat, tc.filter, tc.cards)
		switch {
		case tc.errSub != "":
			if err == nil || !strings.Contains(err.Error(), tc.errSub) || exitCode(err) != exitUsage {
				t.Errorf("cardFilter(%q, %v): err %v, want exit 2 with %q", tc.filter, tc.cards, err, tc.errSub)
			}
		case err != nil || got != tc.want:
			t.Errorf("cardFilter(%q, %v) = %q, %v; want %q", tc.filter, tc.cards, got, err, tc.want)
		}
	}
}
