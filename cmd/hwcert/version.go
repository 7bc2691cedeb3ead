package main

import (
	"fmt"
	"io"
	"runtime/debug"

	"github.com/spf13/cobra"

	"github.com/hwcert/hwcert/framework/hypervisor"
)

func init() { subcommands = append(subcommands, newVersionCommand) }

func newVersionCommand() *cobra.Command {
	return &cobra.Command{
		Use:   "version",
		Short: "Print the module version, VCS revision, Go version and libvirt library version",
		Args:  noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return writeVersion(cmd.OutOrStdout())
		},
	}
}

// versionText is what `hwcert version` and `hwcert --version` print, from the build info the Go
// toolchain embeds (module version; vcs.revision and vcs.modified when built from a checkout).
func versionText() string {
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		return "hwcert (no build information)\n"
	}
	settings := map[string]string{}
	for _, s := range bi.Settings {
		settings[s.Key] = s.Value
	}
	rev := settings["vcs.revision"]
	if rev == "" {
		rev = "unknown (not built from a VCS checkout)"
	} else if settings["vcs.modified"] == "true" {
		rev += " (dirty)"
	}
	lib, err := hypervisor.LibraryVersion()
	if err != nil {
		lib = err.Error()
	}
	return fmt.Sprintf("hwcert %s\nrevision %s\n%s\nlibvirt %s\n", bi.Main.Version, rev, bi.GoVersion, lib)
}

func writeVersion(w io.Writer) error {
	_, err := io.WriteString(w, versionText())
	return err
}
