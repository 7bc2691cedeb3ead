package lab

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"syscall"

	yamlv3 "go.yaml.in/yaml/v3"
)

// maxLabFile bounds a lab file: the shipped ones are a few kilobytes.
const maxLabFile = 4 << 20

// readLabFile reads a regular file (a FIFO or a device is refused without blocking on it) of
// at most maxLabFile bytes holding one YAML document. The harness has its own reader
// (config.ReadYAMLFile): the two sides share no input code.
func readLabFile(path string) ([]byte, error) {
	f, err := os.OpenFile(path, os.O_RDONLY|syscall.O_NONBLOCK, 0)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil, err
	}
	if !st.Mode().IsRegular() {
		return nil, fmt.Errorf("%s: not a regular file (%s), expected a lab YAML file", path, st.Mode().Type())
	}
	data, err := io.ReadAll(io.LimitReader(f, maxLabFile+1))
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	if len(data) > maxLabFile {
		return nil, fmt.Errorf("%s: larger than %d bytes, expected a lab YAML file", path, maxLabFile)
	}
	return data, nil
}

// oneDocument refuses a second YAML document, which the decoder would silently ignore.
func oneDocument(data []byte) error {
	dec := yamlv3.NewDecoder(bytes.NewReader(data))
	var first, second yamlv3.Node
	if err := dec.Decode(&first); err != nil {
		return nil // syntax errors are the strict decoder's to report
	}
	if err := dec.Decode(&second); errors.Is(err, io.EOF) || err != nil {
		return nil
	}
	return fmt.Errorf("line %d: a second YAML document: expected exactly one", second.Line)
}
