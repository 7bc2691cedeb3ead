package cpuset

import (
	"slices"
	"strings"
	"testing"
)

func TestParse(t *testing.T) {
	for _, c := range []struct {
		in      string
		want    []int
		wantErr string // a substring of the error; "" for none
	}{
		{in: "", want: nil},
		{in: "  ", want: nil},
		{in: "0", want: []int{0}},
		{in: "0,16", want: []int{0, 16}},
		{in: "2-7,10-15", want: []int{2, 3, 4, 5, 6, 7, 10, 11, 12, 13, 14, 15}},
		{in: "8,0-3,2", want: []int{0, 1, 2, 3, 8}},
		{in: " 1 , 3 - 4 ", want: []int{1, 3, 4}},
		{in: "5-5", want: []int{5}},
		{in: "8191", want: []int{8191}},
		{in: "0-", wantErr: `"" is not a CPU number`},
		{in: "-1", wantErr: `"" is not a CPU number`},
		{in: "+1", wantErr: `"+1" is not a CPU number`},
		{in: "3-1", wantErr: `range "3-1" ends before it starts`},
		{in: "a", wantErr: `"a" is not a CPU number`},
		{in: "1,,2", wantErr: "empty element"},
		{in: "1,", wantErr: "empty element"},
		{in: "^2", wantErr: `"^2" is not a CPU number`},
		{in: "1-2-3", wantErr: `"2-3" is not a CPU number`},
		{in: "0-99999999", wantErr: "CPU 99999999: the mock supports CPUs 0-8191"},
	} {
		got, err := Parse(c.in)
		switch {
		case c.wantErr != "":
			if err == nil || !strings.Contains(err.Error(), c.wantErr) || !strings.Contains(err.Error(), c.in) {
				t.Errorf("Parse(%q) = %v, %v; want an error naming the input and containing %q", c.in, got, err, c.wantErr)
			}
		case err != nil:
			t.Errorf("Parse(%q): %v", c.in, err)
		case !slices.Equal(got, c.want):
			t.Errorf("Parse(%q) = %v, want %v", c.in, got, c.want)
		}
	}
}

func TestFormat(t *testing.T) {
	for _, c := range []struct {
		in   []int
		want string
	}{
		{nil, ""},
		{[]int{3}, "3"},
		{[]int{0, 1}, "0-1"},
		{[]int{8, 0, 1, 2, 3}, "0-3,8"},
		{[]int{1, 1, 2}, "1-2"},
		{[]int{0, 2, 4}, "0,2,4"},
		{[]int{0, 8, 1, 9}, "0-1,8-9"},
	} {
		if got := Format(c.in); got != c.want {
			t.Errorf("Format(%v) = %q, want %q", c.in, got, c.want)
		}
	}
	in := []int{3, 1, 2}
	Format(in)
	if !slices.Equal(in, []int{3, 1, 2}) {
		t.Errorf("Format changed its argument to %v", in)
	}
}

// Every canonical list reads back to itself.
func TestRoundTrip(t *testing.T) {
	for _, s := range []string{"", "0", "0-3,8", "1,3,5-9", "0-8191"} {
		cpus, err := Parse(s)
		if err != nil || Format(cpus) != s {
			t.Errorf("round trip of %q: %v -> %q (%v)", s, cpus, Format(cpus), err)
		}
	}
}
