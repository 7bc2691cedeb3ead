package report

import (
	"bytes"
	_ "embed"
	"encoding/json"
	"fmt"
	"html/template"
	"strconv"
	"strings"
)

//go:embed page.html.tmpl
var pageTemplate string

var page = template.Must(template.New("page").Funcs(template.FuncMap{
	"hostSVG": func(h HostFacts) template.HTML { return template.HTML(HostSVG(h)) },
	"familyTitle": func(fams []Family, key string) string {
		for _, f := range fams {
			if f.Key == key {
				return f.Title
			}
		}
		return key
	},
	"stateClass": func(s string) string { return strings.ReplaceAll(s, " ", "-") },
	"verdictClass": func(v string) string {
		switch v {
		case Certified, RefusedAsUnsupported:
			return "certified"
		case NotCertified:
			return "not-certified"
		}
		return "not-testable"
	},
	"join": strings.Join,
	"count": func(n int, word string) string {
		if n == 1 {
			return "1 " + word
		}
		return strconv.Itoa(n) + " " + word + "s"
	},
	"configText": func(raw []byte) string {
		var b bytes.Buffer
		if json.Indent(&b, raw, "", "  ") != nil {
			return string(raw)
		}
		return b.String()
	},
	"time": func(t interface{ Format(string) string }) string { return t.Format("2006-01-02 15:04:05 MST") },
}).Parse(pageTemplate))

// guestView is a booted guest with its picture, for the template.
type guestView struct {
	Guest
	SVG template.HTML
}

type specView struct {
	Spec
	GuestViews []guestView
}

// HTML renders the page: one file, inline CSS and SVG, no script and nothing fetched.
func HTML(s *Summary) ([]byte, error) {
	hosts := map[string]HostFacts{}
	for _, h := range s.Hosts {
		hosts[h.Name] = h
	}
	var booted, others []specView
	for _, sp := range s.Specs {
		v := specView{Spec: sp}
		for _, g := range sp.Guests {
			h, ok := hosts[g.Host]
			if !ok {
				return nil, fmt.Errorf("spec %q: guest %s is on host %q, which the lab's inventory does not list", sp.Text, g.Server, g.Host)
			}
			v.GuestViews = append(v.GuestViews, guestView{Guest: g, SVG: template.HTML(GuestSVG(h, g))})
		}
		if len(v.GuestViews) > 0 {
			booted = append(booted, v)
		} else {
			others = append(others, v)
		}
	}
	var buf bytes.Buffer
	err := page.Execute(&buf, map[string]any{"S": s, "Booted": booted, "Others": others})
	if err != nil {
		return nil, fmt.Errorf("rendering index.html: %w", err)
	}
	return buf.Bytes(), nil
}
