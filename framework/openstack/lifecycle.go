package openstack

import (
	"context"
	"fmt"
	"net/http"
	"time"

	"github.com/gophercloud/gophercloud/v2"

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
	err := c.action(ctx, id, func(ctx context.Context) error {
		return servers.Reboot(ctx, c.compute, id, servers.RebootOpts{Type: servers.RebootMethod(kind)}).ExtractErr()
	})
	if err != nil {
		return nil, apiError(err, "%s reboot of server %s", kind, id)
	}
	return c.waitSettled(ctx, id, "ACTIVE", fmt.Sprintf("server %s to be ACTIVE after a %s reboot", id, kind))
}

// StopServer powers a server off (os-stop) and waits until it is SHUTOFF.
func (c *Client) StopServer(ctx context.Context, id string) (*servers.Server, error) {
	if err := c.action(ctx, id, func(ctx context.Context) error { return servers.Stop(ctx, c.compute, id).ExtractErr() }); err != nil {
		return nil, apiError(err, "stop server %s", id)
	}
	return c.waitSettled(ctx, id, "SHUTOFF", fmt.Sprintf("server %s to be SHUTOFF", id))
}

// StartServer powers a stopped server on (os-start) and waits until it is ACTIVE.
func (c *Client) StartServer(ctx context.Context, id string) (*servers.Server, error) {
	if err := c.action(ctx, id, func(ctx context.Context) error { return servers.Start(ctx, c.compute, id).ExtractErr() }); err != nil {
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

// action posts a server action (reboot, stop, start), which the transport does not repeat. When
// the plumbing fails, it is posted again within the retry policy; a 409 after such a failure
// means the lost attempt had started the action (Nova refuses a second one while the task
// runs), so the action is taken as accepted and the caller's wait for its end decides.
func (c *Client) action(ctx context.Context, id string, post func(context.Context) error) error {
	rs := c.retries()
	p := rs.policy
	url := c.compute.ServiceURL("servers", id, "action")
	for n := 1; ; n++ {
		err := post(ctx)
		switch {
		case err == nil:
			return nil
		case n > 1 && gophercloud.ResponseCodeIs(err, http.StatusConflict):
			rs.emit(Retry{Method: http.MethodPost, URL: url, Kind: "action-confirmed", Reason: "a lost attempt had started the action (" + err.Error() + ")", Attempt: n})
			return nil
		case !IsPlumbing(apiError(err, "action")) || n >= p.Attempts || ctx.Err() != nil:
			return err
		}
		wait := p.backoff(n)
		rs.emit(Retry{Method: http.MethodPost, URL: url, Kind: "action-retried", Reason: err.Error(), Attempt: n, Wait: wait})
		t := time.NewTimer(wait)
		select {
		case <-t.C:
		case <-ctx.Done():
			t.Stop()
			return err
		}
	}
}
