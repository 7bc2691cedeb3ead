// Package evidence writes what a failed spec leaves for a person to read: for every server the
// spec created, the server as the API shows it (with its fault), its libvirt domain XML, the node
// device XML of each hostdev, and the host capabilities (NUMA cells, sockets, CPUs). Files, not
// blobs in the report: JUnit stays small and the files open in any tool.
package evidence

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"

	"github.com/gophercloud/gophercloud/v2/openstack/compute/v2/servers"

	"github.com/hwcert/hwcert/framework/hypervisor"
	"github.com/hwcert/hwcert/framework/openstack"
)

// Capture writes the evidence of srvs under dir/<server>/, reading each server afresh from the
// cloud and its hypervisor. It goes on past what it cannot read or write and returns those
// problems, one line each: a failure to capture is a note on a failed spec, not a second failure.
func Capture(ctx context.Context, cloud *openstack.Client, hv *hypervisor.Inspector, dir string, srvs []*servers.Server) []string {
	var problems []string
	note := func(format string, args ...any) { problems = append(problems, fmt.Sprintf(format, args...)) }
	for _, s := range srvs {
		sdir := filepath.Join(dir, SafeName(s.Name))
		if err := os.MkdirAll(sdir, 0o755); err != nil {
			note("%v", err)
			continue
		}
		write := func(name string, data []byte) {
			if err := os.WriteFile(filepath.Join(sdir, name), data, 0o644); err != nil {
				note("%v", err)
			}
		}
		js, err := cloud.ServerJSON(ctx, s.ID)
		if err != nil {
			note("server %s: %v", s.ID, err)
		} else {
			write("server.json", js)
		}
		cur, err := cloud.GetServer(ctx, s.ID)
		if err != nil {
			note("server %s: %v", s.ID, err)
			continue
		}
		if cur.Fault.Message != "" {
			write("fault.txt", fmt.Appendf(nil, "code: %d\nmessage: %s\ndetails: %s\n", cur.Fault.Code, cur.Fault.Message, cur.Fault.Details))
		}
		if cur.Host == "" {
			continue // never scheduled: no hypervisor to ask
		}
		ev, err := hv.Evidence(ctx, cur.Host, cur.InstanceName, cur.ID)
		if ev != nil {
			if ev.DomainXML != "" {
				write("domain.xml", []byte(ev.DomainXML))
			}
			for a, x := range ev.NodeDevXML {
				write("nodedev-"+a.NodeDeviceName()+".xml", []byte(x))
			}
			if ev.CapsXML != "" {
				write("capabilities.xml", []byte(ev.CapsXML))
			}
		}
		if err != nil {
			note("server %s on %s: %v", s.ID, cur.Host, err)
		}
	}
	return problems
}

var unsafeChars = regexp.MustCompile(`[^A-Za-z0-9._-]+`)

// SafeName turns a spec or server name into one path element: runs of anything but letters,
// digits, '.', '_' and '-' become '_', and it is cut at 120 bytes.
func SafeName(s string) string {
	s = strings.Trim(unsafeChars.ReplaceAllString(s, "_"), "_")
	if len(s) > 120 {
		s = s[:120]
	}
	if s == "" {
		s = "unnamed"
	}
	return s
}

// SpecDir names a spec's evidence directory from its full text and parallel process, unique per
// spec of a run.
func SpecDir(fullText string, process int) string {
	return fmt.Sprintf("%s-p%d", SafeName(fullText), process)
}
