package framework

import (
	"context"
	"fmt"

	"github.com/gophercloud/gophercloud/v2/openstack/compute/v2/servers"
	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/hwcert/hwcert/framework/matchers"
	"github.com/hwcert/hwcert/framework/openstack"
	"github.com/hwcert/hwcert/framework/verify"
)

// NoValidHost starts the fault message Nova gives a server no host could take
// (nova/exception.py NoValidHost).
const NoValidHost = "No valid host was found."

// ExpectNoValidHost asserts that a boot ended in ERROR with Nova's "no valid host" fault (code
// 500): the error a user sees when no host can satisfy the request. When the server went ACTIVE
// instead, the failure shows where it landed and with which devices.
func (f *Framework) ExpectNoValidHost(ctx context.Context, srv *servers.Server, err error) {
	GinkgoHelper()
	if err == nil {
		p, perr := f.placement(ctx, srv)
		found := verify.Table(p)
		if perr != nil {
			found = fmt.Sprintf("(its placement could not be read: %v)", perr)
		}
		Fail(fmt.Sprintf("expected the boot to fail with %q, but server %s is %s on host %q:\n%s", NoValidHost, srv.ID, srv.Status, srv.Host, found))
	}
	be, ok := openstack.AsBootError(err)
	Expect(ok).To(BeTrue(), "expected the server to go to ERROR with Nova's %q fault, got: %v", NoValidHost, err)
	Expect(be.Fault).To(matchers.HaveFault(500, NoValidHost), "fault of server %s (%s)", be.Name, be.ServerID)
}

// ExpectAPIError asserts that the cloud refused a request with an HTTP status and a message
// containing substr.
func ExpectAPIError(err error, status int, substr string) {
	GinkgoHelper()
	Expect(err).To(HaveOccurred(), "the request was expected to be refused with HTTP %d %q", status, substr)
	ae, ok := openstack.AsAPIError(err)
	Expect(ok).To(BeTrue(), "expected an HTTP error from the cloud, got: %v", err)
	Expect(ae.Status).To(Equal(status), "HTTP status of %s %s (message %q)", ae.Method, ae.URL, ae.Message)
	Expect(ae.Message).To(ContainSubstring(substr), "message of the HTTP %d", ae.Status)
}

// AsAPIError finds a refusal of the cloud (HTTP status and Nova's message) in err.
func AsAPIError(err error) (*openstack.APIError, bool) { return openstack.AsAPIError(err) }

// AsBootError finds a server that went to ERROR (with Nova's fault) in err.
func AsBootError(err error) (*openstack.BootError, bool) { return openstack.AsBootError(err) }
