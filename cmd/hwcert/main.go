// Command hwcert is the end-to-end hardware test harness for OpenStack PCI passthrough: `run`
// runs the suites against a lab, `mock` serves a simulated lab the suites (and the openstack CLI
// and virsh) can talk to.
package main

import (
	"fmt"
	"os"
)

func main() {
	ctx, stop := catchSignals(os.Stderr)
	defer stop()
	if err := newRootCommand().ExecuteContext(ctx); err != nil {
		fmt.Fprintln(os.Stderr, "hwcert:", err)
		stop()
		os.Exit(exitCode(err))
	}
}
