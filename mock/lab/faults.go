package lab

import (
	"fmt"
	"slices"
	"strings"
)

// Faults are the lies a lab can be told to commit while its API reports success (the scheduler
// applies them, see mock/scheduler). The harness's fault matrix proves each one is caught.
const (
	FaultNUMAMisplace = "numa-misplace"
	FaultWrongDevice  = "wrong-device"
	FaultDropHostdev  = "drop-hostdev"
	FaultExtraHostdev = "extra-hostdev"
	FaultIgnorePolicy = "ignore-policy"
)

// FaultNames lists every fault, in the order help texts show them.
var FaultNames = []string{FaultNUMAMisplace, FaultWrongDevice, FaultDropHostdev, FaultExtraHostdev, FaultIgnorePolicy}

// CheckFault returns an error naming the fault and the known ones when name is not a fault.
func CheckFault(name string) error {
	if slices.Contains(FaultNames, name) {
		return nil
	}
	return fmt.Errorf("fault %q: unknown; expected one of %s", name, strings.Join(FaultNames, ", "))
}
