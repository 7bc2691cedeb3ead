package openstack

import (
	"context"
	"fmt"

	"github.com/gophercloud/gophercloud/v2/openstack/compute/v2/servers"
)

// Reboot types of Nova's reboot action.
const (
	RebootSoft = string(servers.SoftReboot)
	RebootHard = string(servers.HardReboot)
)

// RebootServer asks Nova to reboot a server (kind RebootSoft or RebootHard) and waits until it
// is ACTIVE again with no task in progress.
func (c *Client) RebootServer(ctx context.Context, id, kind string) (*servers.Server, error) {
	err := servers.Reboot(ctx, c.compute, id, servers.RebootOpts{Type: servers.RebootMethod(kind)}).ExtractErr()
	if err != nil {
		return nil, apiError(err, "%s reboot of server %s", kind, id)
	}
	return c.waitSettled(ctx, id, "ACTIVE", fmt.Sprintf("server %s to be ACTIVE after a %s reboot", id, kind))
}

// StopServer powers a server off (os-stop) and waits until it is SHUTOFF.
func (c *Client) StopServer(ctx context.Context, id string) (*servers.Server, error) {
	if err := servers.Stop(ctx, c.compute, id).ExtractErr(); err != nil {
		return nil, apiError(err, "stop server %s", id)
	}
	return c.waitSettled(ctx, id, "SHUTOFF", fmt.Sprintf("server %s to be SHUTOFF", id))
}

// StartServer powers a stopped server on (os-start) and waits until it is ACTIVE.
func (c *Client) StartServer(ctx context.Context, id string) (*servers.Server, error) {
	if err := servers.Start(ctx, c.compute, id).ExtractErr(); err != nil {
		return nil, apiError(err, "start server %s", id)
	}
	return c.waitSettled(ctx, id, "ACTIVE", fmt.Sprintf("server %s to be ACTIVE after a start", id))
}

// waitSettled polls, for at most the boot timeout (a restart is a boot), until the server has
// the status and no task state. A server that goes to ERROR fails the wait with its fault.
func (c *Client) waitSettled(ctx context.Context, id, status, what string) (*servers.Server, error) {
	return c.pollServer(ctx, id, c.bootTimeout, what, func(srv *servers.Server, gone error) (bool, error) {
		switch {
		case gone != nil:
			return false, fmt.Errorf("server %s disappeared while waiting for %s: %w", id, status, gone)
		case srv.Status == "ERROR":
			return false, &BootError{ServerID: srv.ID, Name: srv.Name, Fault: srv.Fault}
		}
		return srv.Status == status && srv.TaskState == "", nil
	})
}
