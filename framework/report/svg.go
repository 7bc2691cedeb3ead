package report

import (
	"fmt"
	"html"
	"slices"
	"strings"

	"github.com/hwcert/hwcert/framework/inventory"
)

// Picture geometry, in SVG user units (px at 100%).
const (
	pad      = 8
	cpuW     = 24
	cpuH     = 18
	cpuGap   = 2
	rowGap   = 4
	coresRow = 4 // cores per row in a node
	lineH    = 16
	charW    = 6.2 // width of a character at the 10px monospace the labels use
	vfW      = 34
	minNodeW = 190
)

// Colours: what a guest uses is blue, a device local to it green, a remote one red, a device
// without NUMA information orange.
const (
	colFrame  = "#5b6670"
	colNode   = "#f3f5f7"
	colCPU    = "#ffffff"
	colDev    = "#e6e8eb"
	colPinned = "#1f5fbf"
	colLocal  = "#23843f"
	colRemote = "#c62828"
	colNoNUMA = "#d98200"
	colText   = "#1d2329"
)

// guestMarks is what a guest picture highlights on its host.
type guestMarks struct {
	pcpus   []int
	memory  []int
	devices map[string]string // address → locality
}

func marksOf(g Guest) *guestMarks {
	m := &guestMarks{pcpus: g.PCPUs, memory: g.HostNodes, devices: map[string]string{}}
	for _, d := range g.Devices {
		m.devices[d.Address] = d.Locality
	}
	return m
}

// HostSVG draws a host: sockets, their NUMA nodes with cores (thread siblings side by side) and
// memory, and the PCI devices on each node; devices without NUMA information in a box apart.
func HostSVG(h HostFacts) string { return drawHost(h, nil, "") }

// GuestSVG draws the guest's host with what the guest uses highlighted: pinned pCPUs, the nodes
// its memory is bound to, and its hostdevs told local (green) or remote (red, marked REMOTE).
func GuestSVG(h HostFacts, g Guest) string { return drawHost(h, marksOf(g), guestCaption(g)) }

func guestCaption(g Guest) string {
	var devs []string
	for _, d := range g.Devices {
		node := "no NUMA node"
		if d.NUMANode != nil {
			node = fmt.Sprintf("node %d", *d.NUMANode)
		}
		devs = append(devs, fmt.Sprintf("%s (%s, %s)", d.Address, node, strings.ToUpper(d.Locality)))
	}
	mem := "no NUMA binding"
	if len(g.HostNodes) > 0 {
		mem = "memory on node " + joinInts(g.HostNodes)
	}
	return fmt.Sprintf("%s: %s; pCPUs %s; hostdevs %s", g.Domain, mem, orNone(joinInts(g.PCPUs)), orNone(strings.Join(devs, ", ")))
}

func orNone(s string) string {
	if s == "" {
		return "none"
	}
	return s
}

func joinInts(xs []int) string {
	s := make([]string, len(xs))
	for i, x := range xs {
		s[i] = fmt.Sprint(x)
	}
	return strings.Join(s, ",")
}

type canvas struct{ b strings.Builder }

func (c *canvas) rect(class string, x, y, w, h float64, fill, stroke string, strokeW float64) {
	fmt.Fprintf(&c.b, `<rect class="%s" x="%g" y="%g" width="%g" height="%g" rx="3" fill="%s" stroke="%s" stroke-width="%g"/>`+"\n", class, x, y, w, h, fill, stroke, strokeW)
}

func (c *canvas) text(x, y float64, size int, weight, fill, s string) {
	fmt.Fprintf(&c.b, `<text x="%g" y="%g" font-size="%d" font-weight="%s" fill="%s">%s</text>`+"\n", x, y, size, weight, fill, html.EscapeString(s))
}

func textW(s string) float64 { return float64(len(s))*charW + 2*pad }

// nodeSize is the width and height a NUMA node box needs.
func nodeSize(n nodeView) (w, h float64) {
	w = minNodeW
	for i := 0; i < len(n.Cores); i += coresRow {
		rw := float64(pad)
		for _, core := range n.Cores[i:min(i+coresRow, len(n.Cores))] {
			rw += coreW(core) + rowGap
		}
		w = max(w, rw+pad)
	}
	rows := (len(n.Cores) + coresRow - 1) / coresRow
	h = lineH + pad + float64(rows)*(cpuH+rowGap+4)
	gw, gh := groupsSize(n.Devices, w)
	return max(w, gw), h + gh + pad
}

func coreW(core []int) float64 { return float64(len(core))*(cpuW+cpuGap) + 4 }

func groupLabel(g deviceGroup) string {
	if g.Parent == nil {
		return fmt.Sprintf("VFs %s (PF not listed)", aliasList(g.VFs))
	}
	d := g.Parent
	s := fmt.Sprintf("%s %s %s", shortAddr(d.Address.String()), strings.ToUpper(d.Function), d.ID())
	if len(d.Aliases) > 0 {
		s += " " + strings.Join(d.Aliases, ",")
	}
	if len(g.VFs) > 0 {
		s += fmt.Sprintf(" · %d VFs %s", len(g.VFs), aliasList(g.VFs))
	}
	return s
}

func aliasList(vfs []inventory.Device) string {
	var out []string
	for _, v := range vfs {
		for _, a := range v.Aliases {
			if !slices.Contains(out, a) {
				out = append(out, a)
			}
		}
	}
	return strings.Join(out, ",")
}

// shortAddr drops the PCI domain when it is 0000, as lspci does.
func shortAddr(a string) string { return strings.TrimPrefix(a, "0000:") }

// vfsPerRow is how many VF boxes fit in a group of width w.
func vfsPerRow(w float64) int { return max(1, int((w-2*pad)/(vfW+cpuGap))) }

func groupsSize(gs []deviceGroup, w float64) (float64, float64) {
	h := 0.0
	for _, g := range gs {
		w = max(w, textW(groupLabel(g)))
	}
	for _, g := range gs {
		h += lineH + 6
		if n := len(g.VFs); n > 0 {
			rows := (n + vfsPerRow(w) - 1) / vfsPerRow(w)
			h += float64(rows) * (cpuH + cpuGap)
		}
		h += 4
	}
	return w, h
}

// devFill is the fill of a device box: its locality to the guest when the guest has it.
func devFill(m *guestMarks, addr string) (fill, class string) {
	if m == nil {
		return colDev, "dev"
	}
	switch m.devices[addr] {
	case Local:
		return colLocal, "dev attached local"
	case Remote:
		return colRemote, "dev attached remote"
	case NoNUMA:
		return colNoNUMA, "dev attached no-numa"
	case Unbound:
		return colPinned, "dev attached unbound"
	}
	return colDev, "dev"
}

func textOn(fill string) string {
	if fill == colDev || fill == colCPU {
		return colText
	}
	return "#ffffff"
}

// drawGroups draws device groups inside a box of width w from (x, y); returns the new y.
func (c *canvas) drawGroups(gs []deviceGroup, m *guestMarks, x, y, w float64) float64 {
	for _, g := range gs {
		fill, class := colDev, "dev"
		if g.Parent != nil {
			fill, class = devFill(m, g.Parent.Address.String())
		}
		c.rect(class, x+pad, y, w-2*pad, lineH+2, fill, colFrame, 0.5)
		label := groupLabel(g)
		if fill == colRemote {
			label = "REMOTE " + label
		}
		c.text(x+pad+4, y+12, 10, "normal", textOn(fill), label)
		y += lineH + 6
		per := vfsPerRow(w)
		for i, v := range g.VFs {
			vx := x + pad + float64(i%per)*(vfW+cpuGap)
			vy := y + float64(i/per)*(cpuH+cpuGap)
			vf, vclass := devFill(m, v.Address.String())
			c.rect(vclass+" vf", vx, vy, vfW, cpuH, vf, colFrame, 0.5)
			label := shortAddr(v.Address.String())
			label = label[strings.Index(label, ":")+1:] // slot.function
			c.text(vx+3, vy+13, 9, "normal", textOn(vf), label)
		}
		if n := len(g.VFs); n > 0 {
			y += float64((n+per-1)/per) * (cpuH + cpuGap)
		}
		y += 4
	}
	return y
}

func drawHost(h HostFacts, m *guestMarks, caption string) string {
	// Measure: sockets side by side, each holding its nodes side by side.
	type placed struct {
		n    nodeView
		w, h float64
	}
	var sockW []float64
	var sockNodes [][]placed
	maxH := 0.0
	for _, s := range h.Sockets {
		sw := float64(pad)
		var ps []placed
		for _, n := range s.Nodes {
			w, hh := nodeSize(n)
			ps = append(ps, placed{n, w, hh})
			sw += w + pad
			maxH = max(maxH, hh)
		}
		sockW = append(sockW, max(sw, 120))
		sockNodes = append(sockNodes, ps)
	}
	noNUMAW, noNUMAH := 0.0, 0.0
	if len(h.NoNUMA) > 0 {
		noNUMAW, noNUMAH = groupsSize(h.NoNUMA, minNodeW)
		noNUMAH += lineH + 2*pad
	}
	width := float64(pad)
	for _, w := range sockW {
		width += w + pad
	}
	if noNUMAW > 0 {
		width += noNUMAW + pad
	}
	top := float64(lineH + pad)
	sockH := maxH + lineH + 2*pad
	height := top + max(sockH, noNUMAH) + pad
	footer := []string{}
	if h.Others > 0 {
		footer = append(footer, fmt.Sprintf("%d other PCI functions (no catalog alias) not drawn", h.Others))
	}
	if m != nil {
		footer = append(footer, caption,
			"blue: pinned pCPUs, guest memory nodes (thick frame); green: local device; red: REMOTE device; orange: device without NUMA node")
	}
	for _, f := range footer {
		width = max(width, textW(f))
	}
	height += float64(len(footer)) * lineH

	c := &canvas{}
	kind := "host"
	if m != nil {
		kind = "guest"
	}
	fmt.Fprintf(&c.b, `<svg xmlns="http://www.w3.org/2000/svg" class="%s" width="%g" height="%g" viewBox="0 0 %g %g" font-family="monospace" role="img" aria-label="%s">`+"\n",
		kind, width, height, width, height, html.EscapeString(kind+" "+h.Name))
	c.rect("frame", 0.5, 0.5, width-1, height-1, "#ffffff", colFrame, 1)
	c.text(pad, lineH, 12, "bold", colText, "host "+h.Name)

	x := float64(pad)
	for i, s := range h.Sockets {
		c.rect("socket", x, top, sockW[i], sockH, "#ffffff", colFrame, 1.2)
		title := "socket ?"
		if s.ID != nil {
			title = fmt.Sprintf("socket %d", *s.ID)
		}
		c.text(x+pad, top+lineH-2, 11, "bold", colText, title)
		nx := x + pad
		for _, p := range sockNodes[i] {
			c.drawNode(p.n, m, nx, top+lineH+pad/2, p.w, maxH)
			nx += p.w + pad
		}
		x += sockW[i] + pad
	}
	if noNUMAW > 0 {
		c.rect("no-numa-box", x, top, noNUMAW, noNUMAH, "#fff8ec", colNoNUMA, 1.2)
		c.text(x+pad, top+lineH-2, 11, "bold", colText, "no NUMA information")
		c.drawGroups(h.NoNUMA, m, x, top+lineH+pad/2, noNUMAW)
	}
	fy := top + max(sockH, noNUMAH) + pad + lineH - 4
	for _, f := range footer {
		c.text(pad, fy, 10, "normal", colText, f)
		fy += lineH
	}
	c.b.WriteString("</svg>\n")
	return c.b.String()
}

func (c *canvas) drawNode(n nodeView, m *guestMarks, x, y, w, h float64) {
	stroke, sw, class := colFrame, 0.8, "node"
	if m != nil && slices.Contains(m.memory, n.ID) {
		stroke, sw, class = colPinned, 3, "node guest-memory"
	}
	c.rect(class, x, y, w, h, colNode, stroke, sw)
	c.text(x+pad, y+lineH-3, 10, "bold", colText, fmt.Sprintf("node %d · %s", n.ID, memory(n.MemoryKiB)))
	cy := y + lineH + pad/2
	for i := 0; i < len(n.Cores); i += coresRow {
		cx := x + pad
		for _, core := range n.Cores[i:min(i+coresRow, len(n.Cores))] {
			c.rect("core", cx, cy, coreW(core), cpuH+4, "none", "#9aa4ad", 0.6)
			for j, cpu := range core {
				fill, class := colCPU, "cpu"
				if m != nil && slices.Contains(m.pcpus, cpu) {
					fill, class = colPinned, "cpu pinned"
				}
				px := cx + 2 + float64(j)*(cpuW+cpuGap)
				c.rect(class, px, cy+2, cpuW, cpuH, fill, "#9aa4ad", 0.6)
				c.text(px+4, cy+15, 10, "normal", textOn(fill), fmt.Sprint(cpu))
			}
			cx += coreW(core) + rowGap
		}
		cy += cpuH + rowGap + 4
	}
	c.drawGroups(n.Devices, m, x, cy+2, w)
}

func memory(kib uint64) string {
	switch {
	case kib == 0:
		return "no memory"
	case kib%(1<<20) == 0:
		return fmt.Sprintf("%d GiB", kib>>20)
	default:
		return fmt.Sprintf("%d MiB", kib>>10)
	}
}
