package openstack

import (
	"context"
	"net/http"
	"regexp"
	"time"

	"github.com/gophercloud/gophercloud/v2/openstack/compute/v2/flavors"
	"github.com/gophercloud/gophercloud/v2/openstack/compute/v2/servers"
)

// createConfirmed runs a create that the transport does not retry (it is not idempotent). When
// it fails because of the plumbing (a 5xx, a reset, no answer), the lab may or may not have
// done it: the resource is looked up by its name, which is unique to the spec. Found, the
// create happened and only its answer was lost; not found, the create is tried again, within
// the client's retry policy. Each step is reported as a Retry.
func createConfirmed[T any](ctx context.Context, c *Client, path, name string, create func(context.Context) (*T, error), find func(context.Context) (*T, error)) (*T, error) {
	rs := c.retries()
	p := rs.policy
	for n := 1; ; n++ {
		got, err := create(ctx)
		if err == nil || !IsPlumbing(apiError(err, "create")) || n >= p.Attempts || ctx.Err() != nil {
			return got, err
		}
		found, ferr := find(ctx)
		if ferr == nil && found != nil {
			rs.emit(Retry{Method: http.MethodPost, URL: path, Kind: "create-confirmed", Reason: "the answer was lost (" + err.Error() + ") but " + name + " exists", Attempt: n})
			return found, nil
		}
		wait := p.backoff(n)
		rs.emit(Retry{Method: http.MethodPost, URL: path, Kind: "create-retried", Reason: err.Error() + "; no " + name + " was created", Attempt: n, Wait: wait})
		t := time.NewTimer(wait)
		select {
		case <-t.C:
		case <-ctx.Done():
			t.Stop()
			return nil, err
		}
	}
}

// serverNamed finds the server with exactly this name (Nova's name filter is a regular
// expression), nil when there is none.
func (c *Client) serverNamed(ctx context.Context, name string) (*servers.Server, error) {
	pages, err := servers.List(c.compute, servers.ListOpts{Name: "^" + regexp.QuoteMeta(name) + "$"}).AllPages(ctx)
	if err != nil {
		return nil, err
	}
	all, err := servers.ExtractServers(pages)
	return named(all, err, name, func(s servers.Server) string { return s.Name })
}

// flavorNamed finds the flavor with this name, nil when there is none.
func (c *Client) flavorNamed(ctx context.Context, name string) (*flavors.Flavor, error) {
	all, err := c.Flavors(ctx)
	return named(all, err, name, func(f flavors.Flavor) string { return f.Name })
}

// named picks the item called name from a listing (nil when none is).
func named[T any](all []T, err error, name string, nameOf func(T) string) (*T, error) {
	if err != nil {
		return nil, err
	}
	for i := range all {
		if nameOf(all[i]) == name {
			return &all[i], nil
		}
	}
	return nil, nil
}
