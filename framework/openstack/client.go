// Package openstack is the harness's cloud client (gophercloud v2): flavors with extra specs,
// servers forced onto hosts, waiting for a boot to end in ACTIVE or ERROR with the fault a user
// sees, lookups of images, networks and hypervisors, and the sweep of leftovers by name prefix.
// The same code talks to a real lab and to the mock.
package openstack

import (
	"context"
	"fmt"
	"net/http"
	"time"

	"github.com/gophercloud/gophercloud/v2"
	gopenstack "github.com/gophercloud/gophercloud/v2/openstack"
	gconfig "github.com/gophercloud/gophercloud/v2/openstack/config"
	"github.com/gophercloud/gophercloud/v2/openstack/config/clouds"
	"github.com/gophercloud/gophercloud/v2/openstack/utils"

	"github.com/hwcert/hwcert/config"
)

// Client talks to one cloud. It is safe for concurrent use (gophercloud's clients are).
type Client struct {
	provider *gophercloud.ProviderClient
	endpoint gophercloud.EndpointOpts
	compute  *gophercloud.ServiceClient

	poll          time.Duration
	bootTimeout   time.Duration
	deleteTimeout time.Duration
	retry         *retrySettings
}

// retrySettings are shared by a client and its copies (WithMicroversion).
type retrySettings struct {
	policy RetryPolicy
	report func(Retry)
}

// Option configures New.
type Option func(*retrySettings)

// WithRetryReporter receives every retry and re-authentication, e.g. to put it in the spec's
// timeline. It is called on the goroutine that made the call.
func WithRetryReporter(report func(Retry)) Option {
	return func(r *retrySettings) { r.report = report }
}

// WithRetryPolicy replaces DefaultRetryPolicy.
func WithRetryPolicy(p RetryPolicy) Option {
	return func(r *retrySettings) { r.policy = p }
}

// retries are the client's settings, or the defaults for a Client built without New (tests).
func (c *Client) retries() *retrySettings {
	if c.retry == nil {
		return &retrySettings{policy: DefaultRetryPolicy}
	}
	return c.retry
}

func (r *retrySettings) emit(rt Retry) {
	if r.report != nil {
		r.report(rt)
	}
}

// New authenticates against the cloud cfg names (clouds.yaml cloud cfg.Cloud, from
// cfg.CloudsFile or the standard locations) and prepares a compute client at
// cfg.ComputeMicroversion.
//
// Idempotent calls are retried with bounded backoff when the lab's plumbing fails (see
// retryTransport), creates are retried once confirmed by name, and an expired token is renewed.
func New(ctx context.Context, cfg *config.Config, options ...Option) (*Client, error) {
	rs := &retrySettings{policy: DefaultRetryPolicy}
	for _, o := range options {
		o(rs)
	}
	opts := []clouds.ParseOption{clouds.WithCloudName(cfg.Cloud)}
	if cfg.CloudsFile != "" {
		opts = append(opts, clouds.WithLocations(cfg.CloudsFile))
	}
	ao, eo, tlsCfg, err := clouds.Parse(opts...)
	if err != nil {
		return nil, fmt.Errorf("cloud %q (clouds file %q): %w", cfg.Cloud, cfg.CloudsFile, err)
	}
	// The harness runs for a long time; let gophercloud re-authenticate when the token expires.
	ao.AllowReauth = true
	base := http.DefaultTransport.(*http.Transport).Clone()
	base.TLSClientConfig = tlsCfg
	httpClient := http.Client{Transport: &retryTransport{next: base, policy: rs.policy, report: rs.emit}}
	pc, err := gconfig.NewProviderClient(ctx, ao, gconfig.WithHTTPClient(httpClient))
	if err != nil {
		return nil, apiError(err, "authenticate to cloud %q at %s", cfg.Cloud, ao.IdentityEndpoint)
	}
	if reauth := pc.ReauthFunc; reauth != nil {
		pc.ReauthFunc = func(ctx context.Context) error {
			rs.emit(Retry{Method: http.MethodPost, URL: ao.IdentityEndpoint, Kind: "reauth", Reason: "the token was refused (expired or revoked); logging in again"})
			return reauth(ctx)
		}
	}
	compute, err := gopenstack.NewComputeV2(pc, eo)
	if err != nil {
		return nil, fmt.Errorf("cloud %q: compute endpoint: %w", cfg.Cloud, err)
	}
	compute.Microversion = cfg.ComputeMicroversion
	return &Client{
		provider:      pc,
		endpoint:      eo,
		compute:       compute,
		poll:          positive(cfg.Timeouts.Poll.Duration, config.DefaultPollInterval),
		bootTimeout:   positive(cfg.Timeouts.Boot.Duration, config.DefaultBootTimeout),
		deleteTimeout: positive(cfg.Timeouts.Delete.Duration, config.DefaultDeleteTimeout),
		retry:         rs,
	}, nil
}

func positive(d, def time.Duration) time.Duration {
	if d > 0 {
		return d
	}
	return def
}

// WithMicroversion returns a client sending another compute microversion; the receiver is unchanged.
func (c *Client) WithMicroversion(mv string) *Client {
	cp := *c
	sc := *c.compute
	sc.Microversion = mv
	cp.compute = &sc
	return &cp
}

// PollInterval and DeleteTimeout are the configured waits.
func (c *Client) PollInterval() time.Duration  { return c.poll }
func (c *Client) DeleteTimeout() time.Duration { return c.deleteTimeout }

// waitFor calls predicate now and then every interval until it reports done, fails, or ctx ends.
// It is gophercloud.WaitFor with the configured interval: gophercloud's polls every second,
// which would make a run against the mock (which answers in milliseconds) needlessly slow.
func waitFor(ctx context.Context, interval time.Duration, predicate func(context.Context) (bool, error)) error {
	if done, err := predicate(ctx); done || err != nil {
		return err
	}
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-t.C:
			if done, err := predicate(ctx); done || err != nil {
				return err
			}
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

// Microversions is the compute API's supported microversion range ("2.1", "2.104"), from its
// version document, for reports: which lab answered matters to whoever reads them.
func (c *Client) Microversions(ctx context.Context) (min, max string, err error) {
	mv, err := utils.GetSupportedMicroversions(ctx, c.compute)
	if err != nil {
		return "", "", apiError(err, "read the compute API version document")
	}
	return fmt.Sprintf("%d.%d", mv.MinMajor, mv.MinMinor), fmt.Sprintf("%d.%d", mv.MaxMajor, mv.MaxMinor), nil
}
