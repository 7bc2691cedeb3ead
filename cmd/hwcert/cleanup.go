package main

import (
	"fmt"

	"github.com/spf13/cobra"

	"github.com/hwcert/hwcert/config"
	"github.com/hwcert/hwcert/framework/openstack"
)

func init() { subcommands = append(subcommands, newCleanupCommand) }

func newCleanupCommand() *cobra.Command {
	var configFile, prefix string
	cmd := &cobra.Command{
		Use:   "cleanup --config FILE [--prefix PREFIX]",
		Short: "Delete the servers and flavors an interrupted run left behind (names starting with the prefix)",
		Long: `Delete every server (waiting until it is gone, so its devices are free) and then every flavor
whose name starts with the config's name_prefix (or --prefix). "hwcert run" does the same at start.`,
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
			res, err := cloud.Sweep(cmd.Context(), prefix)
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
	_ = cmd.MarkFlagRequired("config")
	return cmd
}
