package main

import (
	"fmt"
	"time"

	"github.com/spf13/cobra"

	"github.com/hwcert/hwcert/config"
	"github.com/hwcert/hwcert/framework/openstack"
)

func init() { subcommands = append(subcommands, newCleanupCommand) }

func newCleanupCommand() *cobra.Command {
	var configFile, prefix string
	var olderThan time.Duration
	cmd := &cobra.Command{
		Use:   "cleanup --config FILE [--prefix PREFIX] [--older-than D]",
		Short: "Delete the servers and flavors killed runs left behind (names of hwcert's grammar with the prefix)",
		Long: `Delete every server (waiting until it is gone, so its devices are free) and then every flavor
named by hwcert's grammar — the config's name_prefix (or --prefix), a run id with the run's start
time, "-" and the spec part (hwcert-20261123t221400-ab12cd-numa-p1-3-flavor1) — whose run started
longer ago than --older-than (default 0: every run of that prefix). Names are matched by the whole
grammar, never by string prefix: --prefix hwcert- never touches a run of hwcert-ci-, nor a name
hwcert did not make. A resource of a run that holds a live lease on the lab is never deleted;
expired leases (of killed runs) are broken. "hwcert run" does the same at start with the config's
timeouts.sweep_after.`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			cfg, err := config.Load(configFile)
			if err != nil {
				return &exitError{code: exitUsage, err: err}
			}
			if prefix == "" {
				prefix = cfg.NamePrefix
			}
			if !config.ValidNamePrefix(prefix) {
				return usageErr("--prefix %q: expected %s, as a config's name_prefix", prefix, config.NamePrefixRule)
			}
			if olderThan < 0 {
				return usageErr("--older-than %s: expected a non-negative duration (0: every run of the prefix)", olderThan)
			}
			cloud, err := openstack.New(cmd.Context(), cfg)
			if err != nil {
				return err
			}
			res, err := cloud.Sweep(cmd.Context(), prefix, olderThan)
			for _, s := range res.Servers {
				fmt.Fprintln(cmd.OutOrStdout(), "deleted server", s)
			}
			for _, f := range res.Flavors {
				fmt.Fprintln(cmd.OutOrStdout(), "deleted flavor", f)
			}
			for _, l := range res.Leases {
				fmt.Fprintln(cmd.OutOrStdout(), "broke expired lease", l)
			}
			if err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "cleanup %q: %d servers, %d flavors deleted\n", prefix, len(res.Servers), len(res.Flavors))
			return nil
		},
	}
	cmd.Flags().StringVar(&configFile, "config", "", "harness config of the lab")
	cmd.Flags().StringVar(&prefix, "prefix", "", "name prefix to sweep (default: the config's name_prefix)")
	cmd.Flags().DurationVar(&olderThan, "older-than", 0, "only resources of runs started longer ago than this (0: all)")
	_ = cmd.MarkFlagRequired("config")
	return cmd
}
