package lab

import (
	"fmt"
	"strings"

	"github.com/hwcert/hwcert/config/vocab"
)

// CheckFault returns an error naming the fault and the known ones when name is not one of
// vocab.Faults. The names are shared with the harness; checking them is the mock's own job.
func CheckFault(name string) error {
	names := make([]string, 0, len(vocab.Faults))
	for _, f := range vocab.Faults {
		if f.Name == name {
			return nil
		}
		names = append(names, f.Name)
	}
	return fmt.Errorf("fault %q: unknown; expected one of %s", name, strings.Join(names, ", "))
}
