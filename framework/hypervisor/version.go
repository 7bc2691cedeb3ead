package hypervisor

import (
	"fmt"

	"libvirt.org/go/libvirt"
)

// LibraryVersion is the version of the libvirt client library hwcert runs with, e.g. "9.0.0".
func LibraryVersion() (string, error) {
	v, err := libvirt.GetVersion()
	if err != nil {
		return "", fmt.Errorf("libvirt library version: %w", err)
	}
	return fmt.Sprintf("%d.%d.%d", v/1000000, v/1000%1000, v%1000), nil
}
