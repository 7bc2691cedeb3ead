package cloud

import (
	"maps"
	"slices"
)

// Flavor is a Nova flavor.
type Flavor struct {
	ID          string
	Name        string
	Description string // 2.55+
	RAMMB       int
	VCPUs       int
	DiskGB      int
	EphemeralGB int
	SwapMB      int
	RxTxFactor  float64
	IsPublic    bool
	ExtraSpecs  map[string]string
	seq         int
}

func (f *Flavor) clone() Flavor {
	out := *f
	out.ExtraSpecs = maps.Clone(f.ExtraSpecs)
	if out.ExtraSpecs == nil {
		out.ExtraSpecs = map[string]string{}
	}
	return out
}

// CreateFlavor stores a new flavor; an empty ID gets a UUID. Duplicate names and ids are 409s,
// worded as Nova's FlavorExists and FlavorIdExists.
func (c *Cloud) CreateFlavor(f Flavor) (Flavor, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if f.ID == "" {
		f.ID = newUUID()
	}
	if _, ok := c.flavors[f.ID]; ok {
		return Flavor{}, errorf(Conflict, "Flavor with ID %s already exists.", f.ID)
	}
	for _, o := range c.flavors {
		if o.Name == f.Name {
			return Flavor{}, errorf(Conflict, "Flavor with name %s already exists.", f.Name)
		}
	}
	f.ExtraSpecs = maps.Clone(f.ExtraSpecs)
	if f.ExtraSpecs == nil {
		f.ExtraSpecs = map[string]string{}
	}
	c.flavorSeq++
	f.seq = c.flavorSeq
	stored := f
	c.flavors[f.ID] = &stored
	return stored.clone(), nil
}

func flavorNotFound(id string) error {
	return errorf(NotFound, "Flavor %s could not be found.", id)
}

// Flavor returns the flavor with the given id.
func (c *Cloud) Flavor(id string) (Flavor, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	f, ok := c.flavors[id]
	if !ok {
		return Flavor{}, flavorNotFound(id)
	}
	return f.clone(), nil
}

// Flavors returns every flavor, ordered by flavor id as Nova's default sort (flavorid asc).
func (c *Cloud) Flavors() []Flavor {
	c.mu.Lock()
	defer c.mu.Unlock()
	out := make([]Flavor, 0, len(c.flavors))
	for _, f := range c.flavors {
		out = append(out, f.clone())
	}
	slices.SortFunc(out, func(a, b Flavor) int {
		if a.ID < b.ID {
			return -1
		}
		if a.ID > b.ID {
			return 1
		}
		return 0
	})
	return out
}

// DeleteFlavor removes a flavor. Servers keep their own copy, as Nova's instances do.
func (c *Cloud) DeleteFlavor(id string) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if _, ok := c.flavors[id]; !ok {
		return flavorNotFound(id)
	}
	delete(c.flavors, id)
	return nil
}

// SetExtraSpecs merges specs into the flavor's extra specs and returns them all.
// Validation (microversion 2.86+) is the API layer's job: below 2.86 Nova stores anything.
func (c *Cloud) SetExtraSpecs(id string, specs map[string]string) (map[string]string, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	f, ok := c.flavors[id]
	if !ok {
		return nil, flavorNotFound(id)
	}
	maps.Copy(f.ExtraSpecs, specs)
	return maps.Clone(f.ExtraSpecs), nil
}

// DeleteExtraSpec removes one key, with Nova's 404 text when the flavor or the key is missing.
func (c *Cloud) DeleteExtraSpec(id, key string) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	f, ok := c.flavors[id]
	if !ok {
		return flavorNotFound(id)
	}
	if _, ok := f.ExtraSpecs[key]; !ok {
		return ExtraSpecNotFound(id, key)
	}
	delete(f.ExtraSpecs, key)
	return nil
}

// ExtraSpecNotFound is Nova's 404 for a missing extra spec key.
func ExtraSpecNotFound(flavorID, key string) error {
	return errorf(NotFound, "Flavor %s has no extra specs with key %s.", flavorID, key)
}
