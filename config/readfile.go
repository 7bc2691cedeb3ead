package config

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"syscall"

	yamlv3 "go.yaml.in/yaml/v3"
)

// MaxFileSize bounds every file the harness reads as input (config, catalog): the largest real
// one is a few kilobytes, and /dev/zero must be an error, not the end of the memory.
const MaxFileSize = 4 << 20

// ReadYAMLFile reads a YAML input file of the harness: a regular file (a FIFO or a device is
// refused without blocking on it), at most MaxFileSize bytes, holding one YAML document (a
// second one would be silently ignored by the decoder).
func ReadYAMLFile(path string) ([]byte, error) {
	// O_NONBLOCK: opening a FIFO for reading would wait for a writer forever.
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
		return nil, fmt.Errorf("%s: is a %s, expected a regular file", path, fileKind(st.Mode()))
	}
	data, err := io.ReadAll(io.LimitReader(f, MaxFileSize+1))
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	if len(data) > MaxFileSize {
		return nil, fmt.Errorf("%s: larger than %d bytes, expected a small YAML file", path, MaxFileSize)
	}
	if err := SingleDocument(data); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return data, nil
}

// SingleDocument refuses YAML with more than one document ("---" between two).
func SingleDocument(data []byte) error {
	dec := yamlv3.NewDecoder(bytes.NewReader(data))
	for n := 0; ; n++ {
		var doc yamlv3.Node
		err := dec.Decode(&doc)
		switch {
		case errors.Is(err, io.EOF):
			return nil
		case err != nil:
			return nil // the strict decoder reports syntax errors with its own line numbers
		case n == 1:
			return fmt.Errorf("line %d: a second YAML document: expected exactly one", doc.Line)
		}
	}
}

func fileKind(m os.FileMode) string {
	switch {
	case m.IsDir():
		return "directory"
	case m&os.ModeNamedPipe != 0:
		return "named pipe (FIFO)"
	case m&os.ModeDevice != 0:
		return "device"
	case m&os.ModeSocket != 0:
		return "socket"
	}
	return "non-regular file (" + m.Type().String() + ")"
}
