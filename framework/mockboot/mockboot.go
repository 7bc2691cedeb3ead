// Package mockboot starts the embedded mock lab for a run that names no lab of its own. It is the
// one place where the harness touches the mock: everything else in framework/, suites/ and
// config/ talks to the mock only over the wire (OpenStack HTTP APIs, libvirt RPC), exactly as to a
// real lab, and shares no code with it but the names in config/vocab. boundary_test.go keeps it so.
package mockboot

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/hwcert/hwcert/fixtures/labs"
	"github.com/hwcert/hwcert/mock"
	"github.com/hwcert/hwcert/mock/chaos"
)

// Options choose the embedded lab.
type Options struct {
	// Lab is a shipped lab name or a lab file (see labs.Load); "" is the default lab.
	Lab string
	// BaseDir resolves a relative lab file path: the directory the user ran the command from,
	// which under the Ginkgo CLI is not the test binary's working directory.
	BaseDir string
	Faults  []string
	// Chaos are plumbing faults (package mock/chaos).
	Chaos []string
	// BootLatency, when set, overrides the lab's boot latency.
	BootLatency *time.Duration
}

// Lab is a running embedded mock lab.
type Lab struct {
	Name string
	m    *mock.Mock
	dir  string
}

// Start starts the lab in a fresh temporary state directory and returns once every endpoint
// accepts connections and its harness config is written. The lab runs until Close, whatever
// happens to ctx afterwards.
func Start(ctx context.Context, o Options) (*Lab, error) {
	name := o.Lab
	if labs.IsPath(name) && !filepath.IsAbs(name) && o.BaseDir != "" {
		name = filepath.Join(o.BaseDir, name)
	}
	l, err := labs.Load(name)
	if err != nil {
		return nil, fmt.Errorf("loading the mock lab: %w", err)
	}
	// Unix socket paths are limited to 107 bytes: keep the state dir short.
	dir, err := os.MkdirTemp("", "hwcert-mock-")
	if err != nil {
		return nil, fmt.Errorf("creating the mock state directory: %w", err)
	}
	m, err := mock.Start(context.WithoutCancel(ctx), mock.Options{Lab: l, StateDir: dir, Faults: o.Faults, Chaos: o.Chaos, BootLatency: o.BootLatency})
	if err != nil {
		_ = os.RemoveAll(dir)
		return nil, fmt.Errorf("starting the embedded mock lab %s (faults %v): %w", l.Name, o.Faults, err)
	}
	return &Lab{Name: l.Name, m: m, dir: dir}, nil
}

// ConfigFile is the harness config the lab wrote for itself.
func (l *Lab) ConfigFile() string { return l.m.ConfigFile() }

// AuthURL is the lab's Keystone endpoint.
func (l *Lab) AuthURL() string { return l.m.AuthURL() }

// Close stops the lab and removes its state directory.
func (l *Lab) Close() error {
	return errors.Join(l.m.Close(), os.RemoveAll(l.dir))
}

// CheckChaos validates plumbing-fault specs before a run starts.
func CheckChaos(specs []string) error {
	_, err := chaos.Parse(specs)
	return err
}
