// Package render turns the mock lab's data into the XML documents real libvirt 9.0 emits for a
// compute host: the host capabilities, node devices (PCI PFs, VFs, plain devices and the
// `computer` root) and the live domain XML of a server Nova's libvirt driver has started.
// Everything here is pure: data in, XML text out, no I/O.
//
// The layouts follow libvirt's own formatters (src/conf/capabilities.c, src/conf/node_device_conf.c,
// src/conf/domain_conf.c) and Nova's fakes (nova/tests/fixtures/libvirt.py), so that code parsing
// these documents (libvirtxml, whitebox-style XPath) cannot tell them from a real host's.
package render

import (
	"crypto/sha1"
	"encoding/xml"
	"fmt"
	"strings"
)

// writer is a small indenting XML text builder. libvirt indents by two spaces and uses single
// quotes for attributes; we do the same so that golden files read like `virsh` output.
type writer struct {
	b     strings.Builder
	depth int
}

func (w *writer) line(format string, args ...any) {
	w.b.WriteString(strings.Repeat("  ", w.depth))
	fmt.Fprintf(&w.b, format, args...)
	w.b.WriteByte('\n')
}

func (w *writer) open(format string, args ...any) {
	w.line(format, args...)
	w.depth++
}

func (w *writer) close(tag string) {
	w.depth--
	w.line("</%s>", tag)
}

func (w *writer) String() string { return w.b.String() }

// esc escapes text for element content and for single- or double-quoted attributes.
func esc(s string) string {
	var b strings.Builder
	// xml.EscapeText never fails on a strings.Builder.
	_ = xml.EscapeText(&b, []byte(s))
	return b.String()
}

// pciAddr renders a PCI address element as libvirt does (hex with 0x prefix).
func pciAddr(domain, bus, slot, function uint) string {
	return fmt.Sprintf("<address domain='0x%04x' bus='0x%02x' slot='0x%02x' function='0x%x'/>", domain, bus, slot, function)
}

// HostUUID derives a stable SMBIOS-style UUID for a host from its name, so that the capabilities
// of a host never change between runs (golden files, evidence diffs) yet differ between hosts.
func HostUUID(host string) string {
	sum := sha1.Sum([]byte("hwcert-mock-host:" + host))
	sum[6] = sum[6]&0x0f | 0x50 // version 5 (name-based, SHA-1)
	sum[8] = sum[8]&0x3f | 0x80 // RFC 4122 variant
	return fmt.Sprintf("%x-%x-%x-%x-%x", sum[0:4], sum[4:6], sum[6:8], sum[8:10], sum[10:16])
}
