package main

import (
	"context"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/hwcert/hwcert/config/vocab"
	"github.com/hwcert/hwcert/mock"
	"github.com/hwcert/hwcert/mock/chaos"
	"github.com/hwcert/hwcert/mock/lab"
)

func init() { subcommands = append(subcommands, newMockCommand) }

// faultsUsage documents every fault the mock can inject; each makes the lab lie in one way that
// a suite must catch.
func faultsUsage() string {
	var b strings.Builder
	for _, f := range vocab.Faults {
		fmt.Fprintf(&b, "  %-14s the lab %s\n", f.Name, f.Lie)
	}
	return b.String()
}

// faultNames lists the fault names for flag help.
func faultNames() string {
	names := make([]string, len(vocab.Faults))
	for i, f := range vocab.Faults {
		names[i] = f.Name
	}
	return strings.Join(names, ", ")
}

func newMockCommand() *cobra.Command {
	var (
		labFile, stateDir, addr string
		faults, chaosSpecs      []string
		libvirtTCP              bool
		bootLatency             time.Duration
	)
	cmd := &cobra.Command{
		Use:   "mock --lab FILE --state-dir DIR",
		Short: "Serve a simulated lab (Keystone, Nova, Glance, one libvirtd per host) until interrupted",
		Long: `Serve a simulated lab until SIGINT or SIGTERM.

Keystone v3, Nova v2.1 and Glance v2 listen on one loopback HTTP address; each compute host gets
a fake libvirtd on DIR/HOST.sock (or on 127.0.0.1:PORT with --libvirt-tcp). Once every endpoint
accepts connections the mock writes:

  DIR/clouds.yaml   cloud "mock" with a generated admin password (mode 0600)
  DIR/hwcert.yaml   a harness config for the lab, with every host's libvirt URI

Use them with:
  OS_CLIENT_CONFIG_FILE=DIR/clouds.yaml OS_CLOUD=mock openstack server list
  virsh -c 'qemu+unix:///system?socket=DIR/HOST.sock' list
  hwcert run --config DIR/hwcert.yaml

Faults (--fault, repeatable; added to the lab's own "faults"):
` + faultsUsage() + `
Plumbing faults (--chaos, repeatable; added to the lab's own "chaos"). RATE is a share (0.1,
10%) or a count of first events (3x); the seed is printed, and seed:N replays a run:
` + chaos.Usage(),
		Args: noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			l, err := lab.Load(labFile)
			if err != nil {
				return err
			}
			opts := mock.Options{
				Lab:        l,
				StateDir:   stateDir,
				Addr:       addr,
				Faults:     faults,
				Chaos:      chaosSpecs,
				LibvirtTCP: libvirtTCP,
				Logger:     slog.Default(),
			}
			if cmd.Flags().Changed("boot-latency") {
				if bootLatency < 0 {
					return fmt.Errorf("--boot-latency %v: must not be negative", bootLatency)
				}
				opts.BootLatency = &bootLatency
			}
			ctx := cmd.Context()
			m, err := mock.Start(ctx, opts)
			if err != nil {
				if ctx.Err() != nil {
					// Interrupted while starting: what was started is stopped; nothing failed.
					slog.Default().Info("stopped while starting", "reason", context.Cause(ctx))
					return nil
				}
				return err
			}
			log := slog.Default()
			log.Info("serving", "lab", l.Name, "auth_url", m.AuthURL())
			for _, h := range l.Hosts {
				log.Info("libvirtd", "host", h.Name, "uri", m.LibvirtURI(h.Name))
			}
			log.Info("wrote", "clouds_yaml", m.CloudsFile(), "config", m.ConfigFile())
			if c := m.Chaos(); len(l.Chaos)+len(chaosSpecs) > 0 {
				log.Info("chaos", "faults", c.String())
				defer func() { log.Info("chaos injected", "counts", fmt.Sprint(c.Fired())) }()
			}
			var serveErr error
			select {
			case <-ctx.Done():
				log.Info("stopping", "reason", context.Cause(ctx))
			case serveErr = <-m.Err():
				log.Error("endpoint failed", "err", serveErr)
			}
			if err := m.Close(); err != nil {
				return fmt.Errorf("stopping the mock: %w", err)
			}
			return serveErr
		},
	}
	f := cmd.Flags()
	f.StringVar(&labFile, "lab", "", "lab file (e.g. fixtures/labs/multi.yaml)")
	f.StringVar(&stateDir, "state-dir", "", "directory for clouds.yaml, hwcert.yaml and the libvirt sockets")
	f.StringVar(&addr, "addr", "127.0.0.1:0", "loopback HOST:PORT of the HTTP endpoints")
	f.StringArrayVar(&faults, "fault", nil, "inject a fault (repeatable): "+faultNames())
	f.StringArrayVar(&chaosSpecs, "chaos", nil, "inject a plumbing fault (repeatable), e.g. api-5xx:0.05, api-slow:10%:2s, seed:42")
	f.BoolVar(&libvirtTCP, "libvirt-tcp", false, "serve each libvirtd on 127.0.0.1:PORT (qemu+tcp) instead of a unix socket")
	f.DurationVar(&bootLatency, "boot-latency", 0, "time a server stays in BUILD (default: the lab's boot_latency)")
	_ = cmd.MarkFlagRequired("lab")
	_ = cmd.MarkFlagRequired("state-dir")
	return cmd
}
