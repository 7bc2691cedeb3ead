// Package yamlpos points errors about a YAML file at the line and column they are about. The
// loaders of the config, the device catalog and the mock's lab files decode strictly and then
// validate, and both steps report a field path ("hosts[2].pci_devices[0].product_id: ...") or an
// unknown key; Annotate appends where in the file that is, and says to quote a number YAML read as
// octal or decimal where the loader wanted text (product_id: 0443). It only decorates messages and
// never decides a value, which is why the mock's lab loader may use it too: the harness and the
// mock share no code that reads what a lab has.
package yamlpos

import (
	"regexp"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"
)

// Doc is a YAML document's node tree, for finding positions.
type Doc struct{ root *yaml.Node }

// Parse reads the document; with YAML that does not parse it returns a Doc that finds nothing.
func Parse(data []byte) *Doc {
	var n yaml.Node
	if yaml.Unmarshal(data, &n) != nil || len(n.Content) == 0 {
		return &Doc{}
	}
	return &Doc{root: n.Content[0]}
}

var (
	segment = regexp.MustCompile(`^([^.\[\]]+)((?:\[\d+\])*)`)
	index   = regexp.MustCompile(`\d+`)
)

// node finds the value at path: keys separated by '.', list indexes in brackets.
func (d *Doc) node(path string) *yaml.Node {
	n := d.root
	for path != "" && n != nil {
		m := segment.FindStringSubmatch(path)
		if m == nil {
			return nil
		}
		path = strings.TrimPrefix(path[len(m[0]):], ".")
		n = value(n, m[1])
		for _, idx := range index.FindAllString(m[2], -1) {
			i, _ := strconv.Atoi(idx)
			if n == nil || n.Kind != yaml.SequenceNode || i >= len(n.Content) {
				return nil
			}
			n = n.Content[i]
		}
	}
	return n
}

// value is the value of key in mapping n.
func value(n *yaml.Node, key string) *yaml.Node {
	if n.Kind != yaml.MappingNode {
		return nil
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		if n.Content[i].Value == key {
			return n.Content[i+1]
		}
	}
	return nil
}

// key finds the first mapping key named name, depth first.
func key(n *yaml.Node, name string) *yaml.Node {
	if n == nil {
		return nil
	}
	if n.Kind == yaml.MappingNode {
		for i := 0; i+1 < len(n.Content); i += 2 {
			if n.Content[i].Value == name {
				return n.Content[i]
			}
		}
	}
	for _, c := range n.Content {
		if k := key(c, name); k != nil {
			return k
		}
	}
	return nil
}

func where(n *yaml.Node) string {
	return " (line " + strconv.Itoa(n.Line) + ", column " + strconv.Itoa(n.Column) + ")"
}

var (
	// A validation message starts with a field path, then ": "; a list element may be named in
	// parentheses and followed by the path inside it ("hosts[1] (worker-1): pci_devices[2].vfs: ").
	leadingPath = regexp.MustCompile(`^(` + pathRE + `)(?: \([^)]*\): (` + pathRE + `))?: `)
	pathRE      = `[A-Za-z_][A-Za-z0-9_-]*(?:\[\d+\])*(?:\.[A-Za-z_][A-Za-z0-9_-]*(?:\[\d+\])*)*`
	// Strict decoding names an unknown key.
	unknownField = regexp.MustCompile(`unknown field "([^"]+)"`)
)

// Where is " (line L, column C)" for the value at path, "" when the document has none there.
func (d *Doc) Where(path string) string {
	n := d.node(path)
	if n == nil {
		return ""
	}
	return where(n) + quoteHint(n)
}

// quoteHint says to quote a plain scalar YAML read as a number though it looks like an ID:
// leading zeros (0443 is octal to YAML) are what the loaders then misread.
func quoteHint(n *yaml.Node) string {
	if n.Kind != yaml.ScalarNode || n.Style != 0 || (n.Tag != "!!int" && n.Tag != "!!float") {
		return ""
	}
	if len(n.Value) > 1 && n.Value[0] == '0' {
		return `; YAML reads the unquoted ` + n.Value + ` as a number: write it quoted, "` + n.Value + `"`
	}
	return ""
}

// Annotate appends to each line of err's message that starts with a field path, or names an
// unknown field, where in the document that is. The result unwraps to err.
func (d *Doc) Annotate(err error) error {
	if err == nil || d.root == nil {
		return err
	}
	lines := strings.Split(err.Error(), "\n")
	changed := false
	for i, l := range lines {
		pos := ""
		if m := unknownField.FindStringSubmatch(l); m != nil {
			if k := key(d.root, m[1]); k != nil {
				pos = where(k)
			}
		} else if m := leadingPath.FindStringSubmatch(l); m != nil {
			path := m[1]
			if m[2] != "" {
				path += "." + m[2]
			}
			pos = d.Where(path)
		}
		if pos != "" {
			lines[i] = l + pos
			changed = true
		}
	}
	if !changed {
		return err
	}
	return &annotated{msg: strings.Join(lines, "\n"), err: err}
}

type annotated struct {
	msg string
	err error
}

func (a *annotated) Error() string { return a.msg }
func (a *annotated) Unwrap() error { return a.err }
