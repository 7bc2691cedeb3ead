package openstack

import (
	"context"
	"fmt"
	"net/http"

	"github.com/gophercloud/gophercloud/v2"
	"github.com/gophercloud/gophercloud/v2/openstack/compute/v2/flavors"
)

// FlavorSpec is the size of a flavor; extra specs are set separately (SetExtraSpecs) so the
// caller can register the flavor's cleanup before a spec is refused.
type FlavorSpec struct {
	Name   string
	VCPUs  int
	RAMMB  int
	DiskGB int
}

// CreateFlavor creates a private-to-the-test flavor without extra specs.
func (c *Client) CreateFlavor(ctx context.Context, spec FlavorSpec) (*flavors.Flavor, error) {
	fl, err := createConfirmed(ctx, c, c.compute.ServiceURL("flavors"), spec.Name, func(ctx context.Context) (*flavors.Flavor, error) {
		return flavors.Create(ctx, c.compute, flavors.CreateOpts{
			Name:  spec.Name,
			VCPUs: spec.VCPUs,
			RAM:   spec.RAMMB,
			Disk:  gophercloud.IntToPointer(spec.DiskGB),
		}).Extract()
	}, func(ctx context.Context) (*flavors.Flavor, error) { return c.flavorNamed(ctx, spec.Name) })
	if err != nil {
		return nil, apiError(err, "create flavor %s (%d vCPUs, %d MB, %d GB)", spec.Name, spec.VCPUs, spec.RAMMB, spec.DiskGB)
	}
	return fl, nil
}

// SetExtraSpecs sets extra specs on a flavor in one request. With compute microversion 2.86 or
// later Nova validates them and refuses malformed values with HTTP 400 (an *APIError).
func (c *Client) SetExtraSpecs(ctx context.Context, flavorID string, specs map[string]string) (map[string]string, error) {
	if len(specs) == 0 {
		return map[string]string{}, nil
	}
	got, err := flavors.CreateExtraSpecs(ctx, c.compute, flavorID, flavors.ExtraSpecsOpts(specs)).Extract()
	if err != nil {
		return nil, apiError(err, "set extra specs %v on flavor %s (microversion %s)", specs, flavorID, c.compute.Microversion)
	}
	return got, nil
}

// DeleteFlavor deletes a flavor; a flavor that is already gone is not an error.
func (c *Client) DeleteFlavor(ctx context.Context, flavorID string) error {
	err := flavors.Delete(ctx, c.compute, flavorID).ExtractErr()
	if err != nil && !gophercloud.ResponseCodeIs(err, http.StatusNotFound) {
		return apiError(err, "delete flavor %s", flavorID)
	}
	return nil
}

// Flavors lists every flavor visible to the user (public and private).
func (c *Client) Flavors(ctx context.Context) ([]flavors.Flavor, error) {
	pages, err := flavors.ListDetail(c.compute, flavors.ListOpts{AccessType: flavors.AllAccess}).AllPages(ctx)
	if err != nil {
		return nil, apiError(err, "list flavors")
	}
	out, err := flavors.ExtractFlavors(pages)
	if err != nil {
		return nil, fmt.Errorf("list flavors: %w", err)
	}
	return out, nil
}
