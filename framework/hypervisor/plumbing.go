package hypervisor

import (
	"context"
	"errors"

	"libvirt.org/go/libvirt"
)

// IsPlumbing reports whether err is the host's libvirt being unreachable (a connection refused,
// dropped or timed out, an RPC failure) rather than an answer about the guest (no such domain,
// no such device): a lab error, not a verdict.
func IsPlumbing(err error) bool {
	if errors.Is(err, context.DeadlineExceeded) || errors.Is(err, errCallAbandoned) {
		return true
	}
	var le libvirt.Error
	if !errors.As(err, &le) {
		return false
	}
	switch le.Code {
	case libvirt.ERR_SYSTEM_ERROR, libvirt.ERR_NO_CONNECT, libvirt.ERR_RPC, libvirt.ERR_OPERATION_TIMEOUT,
		libvirt.ERR_AUTH_FAILED, libvirt.ERR_INVALID_CONN:
		return true
	}
	return le.Domain == libvirt.FROM_RPC || le.Domain == libvirt.FROM_REMOTE && le.Code != libvirt.ERR_NO_DOMAIN
}
