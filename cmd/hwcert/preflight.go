package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/hwcert/hwcert/fixtures/labs"
	"github.com/hwcert/hwcert/framework/preflight"
)

func init() { subcommands = append(subcommands, newPreflightCommand) }

func newPreflightCommand() *cobra.Command {
	var configFile, labName string
	var checkTimeout time.Duration
	cmd := &cobra.Command{
		Use:   "preflight [--config FILE] [--check-timeout D]",
		Short: "Check that a run can start on a lab: one line per check, what was found and how to fix it",
		Long: `Check everything a run needs, one line per check (✔ passed, ! worth knowing, ✘ blocker, - not checked):
the cloud (clouds.yaml, authentication), the admin view (os-hypervisors, OS-EXT-SRV-ATTR), the compute
microversion, the image and the network, every compute host's libvirtd (one line per host, naming
the URI), the quota for the largest spec, the catalog against the lab, and leftovers of earlier runs.
Each check is bounded by --check-timeout; a slow check says that it is still waiting.
Exits 0 when a run can start, 2 otherwise. Without --config, checks the embedded mock lab.
"hwcert run --config FILE" runs the same checks first (unless --skip-preflight).`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			t, err := openTarget(cmd.Context(), configFile, labName)
			if err != nil {
				return err
			}
			defer t.Close()
			return runPreflight(cmd.Context(), t, configFile, checkTimeout, cmd.OutOrStdout())
		},
	}
	f := cmd.Flags()
	f.StringVar(&configFile, "config", "", "harness config of the lab (default: start the embedded mock)")
	f.StringVar(&labName, "lab", "", "embedded mock only: shipped lab ("+strings.Join(labs.Names(), ", ")+") or lab file")
	f.DurationVar(&checkTimeout, "check-timeout", 30*time.Second, "bound on each check")
	return cmd
}

// runPreflight prints each check as it ends and fails with exit 2 naming every blocker.
func runPreflight(ctx context.Context, t *target, configFile string, checkTimeout time.Duration, out io.Writer) error {
	rep := preflight.Run(ctx, t.cfg, t.cat, preflight.Options{ConfigFile: configFile, CheckTimeout: checkTimeout, Out: out, Progress: os.Stderr})
	if err := rep.Err(); err != nil {
		return &exitError{code: exitUsage, err: err}
	}
	fmt.Fprintln(out, "preflight: a run can start")
	return nil
}
