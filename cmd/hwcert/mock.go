package main

import (
	"context"
	"fmt"
	"log/slog"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/hwcert/hwcert/mock"
	"github.com/hwcert/hwcert/mock/lab"
)

func init() { subcommands = append(subcommands, newMockCommand) }

// faultHelp documents every fault the mock can inject; each makes the lab lie in one way that a
// suite must catch.
var faultHelp = map[string]string{
	"numa-misplace": "devices are taken from a NUMA node not local to the guest, where the host has one",
	"wrong-device":  "a device of another product is attached instead of a requested one",
	"drop-hostdev":  "one requested device is missing from the domain XML",
	"extra-hostdev": "one device more than requested is attached",
	"ignore-policy": "a 'required' NUMA affinity policy is treated as 'preferred'",
}

func faultsUsage() string {
	names := slices.Clone(lab.FaultNames)
	sort.Strings(names)
	var b strings.Builder
	for _, n := range names {
		fmt.Fprintf(&b, "  %-14s %s\n", n, faultHelp[n])
	}
	return b.String()
}

func newMockCommand() *cobra.Command {
	var (
		labFile, stateDir, addr string
		faults                  []string
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
` + faultsUsage(),
		Args: cobra.NoArgs,
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
				return err
			}
			log := slog.Default()
			log.Info("serving", "lab", l.Name, "auth_url", m.AuthURL())
			for _, h := range l.Hosts {
				log.Info("libvirtd", "host", h.Name, "uri", m.LibvirtURI(h.Name))
			}
			log.Info("wrote", "clouds_yaml", m.CloudsFile(), "config", m.ConfigFile())
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
	f.StringArrayVar(&faults, "fault", nil, "inject a fault (repeatable): "+strings.Join(lab.FaultNames, ", "))
	f.BoolVar(&libvirtTCP, "libvirt-tcp", false, "serve each libvirtd on 127.0.0.1:PORT (qemu+tcp) instead of a unix socket")
	f.DurationVar(&bootLatency, "boot-latency", 0, "time a server stays in BUILD (default: the lab's boot_latency)")
	_ = cmd.MarkFlagRequired("lab")
	_ = cmd.MarkFlagRequired("state-dir")
	return cmd
}
