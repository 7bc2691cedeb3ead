package main

import (
	"errors"
	"log/slog"
	"os"
	"strings"

	"github.com/spf13/cobra"
)

// subcommands are added by each subcommand's file (mock.go, run.go, ...) from init, so the
// files stay independent of one another.
var subcommands []func() *cobra.Command

// exitCoder is an error that carries the process exit code (e.g. "tests failed" vs "harness broke").
type exitCoder interface{ ExitCode() int }

func exitCode(err error) int {
	var ec exitCoder
	if errors.As(err, &ec) {
		return ec.ExitCode()
	}
	return 1
}

// noArgs refuses positional arguments as a usage error (exit 2).
func noArgs(cmd *cobra.Command, args []string) error {
	if len(args) > 0 {
		return usageErr("%s takes no arguments, got %q", cmd.CommandPath(), args)
	}
	return nil
}

func newRootCommand() *cobra.Command {
	var verbose bool
	root := &cobra.Command{
		Use:   "hwcert",
		Short: "End-to-end hardware tests for OpenStack PCI passthrough (QAT VFs, GPUs)",
		Long: `hwcert creates flavors with pci_passthrough:alias extra specs, boots servers, and proves from
the hypervisor itself (libvirt domain XML, node devices, NUMA topology) that the requested devices
were attached on the right host NUMA node. It also proves that what must fail does fail.

Without hardware, "hwcert mock" serves a simulated lab that speaks the same protocols.`,
		SilenceUsage:  true,
		SilenceErrors: true,
		PersistentPreRun: func(cmd *cobra.Command, _ []string) {
			level := slog.LevelInfo
			if verbose {
				level = slog.LevelDebug
			}
			slog.SetDefault(slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: level})))
		},
	}
	root.PersistentFlags().BoolVarP(&verbose, "verbose", "v", false, "log debug messages")
	root.Version = "set" // makes cobra add --version; the template prints the build's versions
	root.SetVersionTemplate(versionText())
	// A bad flag or argument is a usage error: exit 2, like a bad config.
	root.SetFlagErrorFunc(func(_ *cobra.Command, err error) error {
		return &exitError{code: exitUsage, err: err}
	})
	for _, sub := range subcommands {
		root.AddCommand(sub())
	}
	// An unknown command is a usage error too (cobra's own would exit 1).
	root.Args = func(cmd *cobra.Command, args []string) error {
		if len(args) == 0 {
			return nil
		}
		var names []string
		for _, c := range cmd.Commands() {
			if c.IsAvailableCommand() {
				names = append(names, c.Name())
			}
		}
		return usageErr("unknown command %q for hwcert; expected one of %s", args[0], strings.Join(names, ", "))
	}
	root.RunE = func(cmd *cobra.Command, _ []string) error { return cmd.Help() }
	return root
}
