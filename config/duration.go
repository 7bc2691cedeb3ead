package config

import (
	"bytes"
	"encoding/json"
	"fmt"
	"time"
)

// UnmarshalJSON reads a Go duration string ("90s", "5m"). sigs.k8s.io/yaml converts YAML to JSON
// first, so this is also what reads the YAML file. Bare numbers are refused: "300" could mean
// seconds or nanoseconds, and guessing wrong makes every wait either instant or endless.
func (d *Duration) UnmarshalJSON(b []byte) error {
	if bytes.Equal(b, []byte("null")) {
		d.Duration = 0
		return nil
	}
	var s string
	if err := json.Unmarshal(b, &s); err != nil {
		return fmt.Errorf("duration %s: expected a quoted Go duration such as \"90s\" or \"5m\"", b)
	}
	v, err := time.ParseDuration(s)
	if err != nil {
		return fmt.Errorf("duration %q: expected a Go duration such as \"90s\" or \"5m\"", s)
	}
	d.Duration = v
	return nil
}

// MarshalJSON writes the duration as a Go duration string ("1m30s").
func (d Duration) MarshalJSON() ([]byte, error) {
	return json.Marshal(d.Duration.String())
}
