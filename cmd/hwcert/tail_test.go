//go:build concurrent || soak

package main

import "strings"

// tail is the last n lines of a run's output, for failure messages of the long run tests.
func tail(s string, n int) string {
	lines := strings.Split(s, "\n")
	return strings.Join(lines[max(0, len(lines)-n):], "\n")
}
