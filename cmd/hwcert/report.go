package main

import (
	"github.com/spf13/cobra"
)

func init() { subcommands = append(subcommands, newReportCommand) }

func newReportCommand() *cobra.Command {
	var from string
	cmd := &cobra.Command{
		Use:   "report --from DIR",
		Short: "Remake the certification bundle (index.html, summary.json, MANIFEST.sha256) of a finished run",
		Long: `Reads DIR/report.json and the evidence under DIR/evidence of a finished "hwcert run" and writes
DIR/index.html, DIR/summary.json and DIR/MANIFEST.sha256 again, with this hwcert's rendering (the
run's own facts, such as the hwcert that ran it, come from report.json). Exits 2 when DIR holds
no report of a run.`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if from == "" {
				return usageErr("--from: the report directory of a finished run is required")
			}
			if err := writeBundle(cmd.OutOrStdout(), from); err != nil {
				return &exitError{code: exitUsage, err: err}
			}
			return nil
		},
	}
	cmd.Flags().StringVar(&from, "from", "", "report directory of a finished run (holds report.json)")
	return cmd
}
