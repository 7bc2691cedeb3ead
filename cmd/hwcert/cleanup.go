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
		Short: "Delete the servers and flavors killed runs left behind (names starting with the prefix)",
		Long: `Delete every server (waiting until it is gone, so its devices are free) and then every flavor
whose name starts with the config's name_prefix (or --prefix) and whose run started longer ago than
--older-than (default 0: all of them, including names hwcert did not generate). "hwcert run" does
the same at start with the config's timeouts.sweep_after, so it never deletes a concurrent run's
resources.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			cfg, err := config.Load(configFile)
			if err != nil {
				return &exitError{code: exitUsage, err: err}
			}
			if prefix == "" {
				prefix = cfg.NamePrefix
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
