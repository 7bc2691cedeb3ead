package openstack

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/gophercloud/gophercloud/v2"
	"github.com/gophercloud/gophercloud/v2/openstack/compute/v2/servers"
)

// ServerSpec says what to boot and where.
type ServerSpec struct {
	Name     string
	FlavorID string
	ImageID  string
	// Network is a network id, or "none"/"auto" (microversion 2.37+).
	Network string
	// AvailabilityZone is "zone", "zone:host" or "zone:host:node".
	AvailabilityZone string
	// Host asks for a specific compute host (microversion 2.74+ `host`, admin only); Nova answers
	// 400 "Compute host X could not be found." for a host it does not know.
	Host string
}

// createOpts adds the 2.74 `host` field, which gophercloud's CreateOpts does not carry.
type createOpts struct {
	servers.CreateOpts
	host string
}

func (o createOpts) ToServerCreateMap() (map[string]any, error) {
	m, err := o.CreateOpts.ToServerCreateMap()
	if err != nil {
		return nil, err
	}
	if o.host != "" {
		srv, ok := m["server"].(map[string]any)
		if !ok {
			return nil, errors.New("server create body has no \"server\" object")
		}
		srv["host"] = o.host
	}
	return m, nil
}

// CreateServer asks Nova for a server. The answer is 202 with the new server's id; errors Nova
// finds before scheduling (undefined alias, unknown host) come back as an *APIError.
func (c *Client) CreateServer(ctx context.Context, spec ServerSpec) (*servers.Server, error) {
	opts := servers.CreateOpts{
		Name:             spec.Name,
		FlavorRef:        spec.FlavorID,
		ImageRef:         spec.ImageID,
		AvailabilityZone: spec.AvailabilityZone,
	}
	switch spec.Network {
	case "", "none", "auto":
		if spec.Network == "" {
			opts.Networks = "none"
		} else {
			opts.Networks = spec.Network
		}
	default:
		opts.Networks = []servers.Network{{UUID: spec.Network}}
	}
	srv, err := createConfirmed(ctx, c, c.compute.ServiceURL("servers"), spec.Name, func(ctx context.Context) (*servers.Server, error) {
		return servers.Create(ctx, c.compute, createOpts{CreateOpts: opts, host: spec.Host}, nil).Extract()
	}, func(ctx context.Context) (*servers.Server, error) { return c.serverNamed(ctx, spec.Name) })
	if err != nil {
		where := ""
		if spec.Host != "" {
			where = " on host " + spec.Host
		}
		if spec.AvailabilityZone != "" {
			where += " in zone " + spec.AvailabilityZone
		}
		return nil, apiError(err, "create server %s with flavor %s%s", spec.Name, spec.FlavorID, where)
	}
	return srv, nil
}

// GetServer reads a server.
func (c *Client) GetServer(ctx context.Context, id string) (*servers.Server, error) {
	srv, err := servers.Get(ctx, c.compute, id).Extract()
	if err != nil {
		return nil, apiError(err, "get server %s", id)
	}
	return srv, nil
}

// ServerJSON is the server as the API shows it, indented (for evidence).
func (c *Client) ServerJSON(ctx context.Context, id string) ([]byte, error) {
	r := servers.Get(ctx, c.compute, id)
	if r.Err != nil {
		return nil, apiError(r.Err, "get server %s", id)
	}
	b, err := json.MarshalIndent(r.Body, "", "  ")
	if err != nil {
		return nil, fmt.Errorf("server %s: encode JSON: %w", id, err)
	}
	return b, nil
}

// WaitForBoot polls the server until it is ACTIVE (returned) or ERROR (returned with a
// *BootError carrying Nova's fault), for at most the configured boot timeout. At the deadline
// it returns a *TimeoutError saying the last status and task state it saw.
func (c *Client) WaitForBoot(ctx context.Context, id string) (*servers.Server, error) {
	return c.WatchBoot(ctx, id, nil)
}

// WatchBoot is WaitForBoot calling changed (when not nil) each time the server's status or task
// state changes, so a person watching the run sees where a boot of minutes is.
func (c *Client) WatchBoot(ctx context.Context, id string, changed func(*servers.Server)) (*servers.Server, error) {
	var status, task string
	return c.pollServer(ctx, id, c.bootTimeout, fmt.Sprintf("server %s to become ACTIVE", id), func(srv *servers.Server, gone error) (bool, error) {
		if srv != nil && changed != nil && (srv.Status != status || srv.TaskState != task) {
			status, task = srv.Status, srv.TaskState
			changed(srv)
		}
		switch {
		case gone != nil:
			return false, fmt.Errorf("server %s disappeared while booting: %w", id, gone)
		case srv.Status == "ACTIVE":
			return true, nil
		case srv.Status == "ERROR":
			return false, &BootError{ServerID: srv.ID, Name: srv.Name, Fault: srv.Fault}
		}
		return false, nil
	})
}

// pollServer GETs the server every poll interval, for at most timeout, until judge says it is
// done or returns an error, and returns the server as last seen. judge sees each answer: the
// server, or (gone, non-nil) Nova's 404. Any other API error does not end the wait — a transient
// error must not fail a spec, and the deadline bounds it — but is reported in the *TimeoutError
// at the deadline, with what was waited for and the last status seen.
func (c *Client) pollServer(ctx context.Context, id string, timeout time.Duration, what string, judge func(srv *servers.Server, gone error) (bool, error)) (*servers.Server, error) {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	start := time.Now()
	var last *servers.Server
	var lastErr, judged error
	err := waitFor(ctx, c.poll, func(ctx context.Context) (bool, error) {
		srv, err := servers.Get(ctx, c.compute, id).Extract()
		var gone error
		switch {
		case gophercloud.ResponseCodeIs(err, http.StatusNotFound):
			gone = apiError(err, "get server %s", id)
		case err != nil:
			lastErr = apiError(err, "get server %s", id)
			return false, nil
		default:
			last, lastErr = srv, nil
		}
		done, err := judge(srv, gone)
		judged = err
		return done, err
	})
	switch {
	case err == nil || judged != nil:
		return last, err
	case ctx.Err() != nil:
		return last, timeoutError(ctx, what, start, last, lastErr)
	}
	return last, err
}

// timeoutError says what a wait was for, how long it waited and what it last saw: the server's
// status and task state, and the last API error (or the context's error when there was none).
func timeoutError(ctx context.Context, what string, start time.Time, last *servers.Server, lastErr error) *TimeoutError {
	te := &TimeoutError{What: what, Waited: time.Since(start), LastErr: lastErr}
	if last != nil {
		te.LastStatus, te.LastTaskState = last.Status, last.TaskState
	}
	if te.LastErr == nil {
		te.LastErr = ctx.Err()
	}
	return te
}

// DeleteServer deletes a server and waits, for at most the configured delete timeout, until Nova
// no longer knows it (so its devices are free again). A server already gone is not an error.
func (c *Client) DeleteServer(ctx context.Context, id string) error {
	err := servers.Delete(ctx, c.compute, id).ExtractErr()
	if err != nil {
		if gophercloud.ResponseCodeIs(err, http.StatusNotFound) {
			return nil
		}
		return apiError(err, "delete server %s", id)
	}
	return c.WaitGone(ctx, id)
}

// WaitGone polls until GET of the server answers 404.
func (c *Client) WaitGone(ctx context.Context, id string) error {
	_, err := c.pollServer(ctx, id, c.deleteTimeout, fmt.Sprintf("server %s to be deleted", id), func(_ *servers.Server, gone error) (bool, error) {
		return gone != nil, nil
	})
	return err
}

// Servers lists the user's servers (details).
func (c *Client) Servers(ctx context.Context) ([]servers.Server, error) {
	pages, err := servers.List(c.compute, servers.ListOpts{}).AllPages(ctx)
	if err != nil {
		return nil, apiError(err, "list servers")
	}
	out, err := servers.ExtractServers(pages)
	if err != nil {
		return nil, fmt.Errorf("list servers: %w", err)
	}
	return out, nil
}
