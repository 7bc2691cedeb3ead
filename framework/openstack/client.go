// Package openstack is the harness's cloud client (gophercloud v2): flavors with extra specs,
// servers forced onto hosts, waiting for a boot to end in ACTIVE or ERROR with the fault a user
// sees, lookups of images, networks and hypervisors, and the sweep of leftovers by name prefix.
// The same code talks to a real lab and to the mock.
package openstack

import (
	"context"
	"fmt"
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
}

// New authenticates against the cloud cfg names (clouds.yaml cloud cfg.Cloud, from
// cfg.CloudsFile or the standard locations) and prepares a compute client at
// cfg.ComputeMicroversion.
func New(ctx context.Context, cfg *config.Config) (*Client, error) {
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
	pc, err := gconfig.NewProviderClient(ctx, ao, gconfig.WithTLSConfig(tlsCfg))
	if err != nil {
		return nil, apiError(err, "authenticate to cloud %q at %s", cfg.Cloud, ao.IdentityEndpoint)
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
