package cpuset

import (
	"slices"
	"testing"
)

func TestParseFormat(t *testing.T) {
	cases := []struct {
		in      string
		want    []int
		canon   string
		wantErr bool
	}{
		{in: "", want: nil, canon: ""},
		{in: "0", want: []int{0}, canon: "0"},
		{in: "0-3,8", want: []int{0, 1, 2, 3, 8}, canon: "0-3,8"},
		{in: "8,0-3,2", want: []int{0, 1, 2, 3, 8}, canon: "0-3,8"},
		{in: " 1 , 3 ", want: []int{1, 3}, canon: "1,3"},
		{in: "3-1", wantErr: true},
		{in: "a", wantErr: true},
		{in: "1,,2", wantErr: true},
		{in: "-1", wantErr: true},
		{in: "^2", wantErr: true},
		{in: "0-99999999", wantErr: true},
	}
	for _, c := range cases {
		got, err := Parse(c.in)
		if c.wantErr {
			if err == nil {
				t.Errorf("Parse(%q) = %v, want an error", c.in, got)
			}
			continue
		}
		if err != nil {
			t.Errorf("Parse(%q): %v", c.in, err)
			continue
		}
		if !slices.Equal(got, c.want) {
			t.Errorf("Parse(%q) = %v, want %v", c.in, got, c.want)
		}
		if f := Format(got); f != c.canon {
			t.Errorf("Format(%v) = %q, want %q", got, f, c.canon)
		}
	}
}

func FuzzParse(f *testing.F) {
	for _, s := range []string{"0-3,8", "1", "", "5-2", "0-65535"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		cpus, err := Parse(s)
		if err != nil {
			return
		}
		again, err := Parse(Format(cpus))
		if err != nil || !slices.Equal(again, cpus) {
			t.Fatalf("round trip of %q: %v -> %q -> %v (%v)", s, cpus, Format(cpus), again, err)
		}
	})
}
