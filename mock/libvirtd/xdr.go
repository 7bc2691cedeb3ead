package libvirtd

import (
	"encoding/binary"
	"errors"
	"fmt"
)

// A hand-written XDR (RFC 4506) codec for the few types the libvirt remote protocol uses here:
// 32/64-bit integers, booleans, strings and variable opaques (length-prefixed, padded to 4
// bytes), fixed opaques (UUIDs), and optional values ("pointer" types: a bool then the value).

// encoder appends XDR values to a byte slice.
type encoder struct{ b []byte }

func (e *encoder) uint32(v uint32) { e.b = binary.BigEndian.AppendUint32(e.b, v) }
func (e *encoder) int32(v int32)   { e.uint32(uint32(v)) }
func (e *encoder) uint64(v uint64) { e.b = binary.BigEndian.AppendUint64(e.b, v) }

func (e *encoder) bool(v bool) {
	if v {
		e.uint32(1)
	} else {
		e.uint32(0)
	}
}

// pad appends zero bytes up to the next multiple of 4 after n data bytes.
func (e *encoder) pad(n int) {
	for ; n%4 != 0; n++ {
		e.b = append(e.b, 0)
	}
}

// string writes a length-prefixed, padded string (also remote_nonnull_string).
func (e *encoder) string(s string) {
	e.uint32(uint32(len(s)))
	e.b = append(e.b, s...)
	e.pad(len(s))
}

// fixedOpaque writes bytes without a length (e.g. remote_uuid, opaque[16]).
func (e *encoder) fixedOpaque(b []byte) {
	e.b = append(e.b, b...)
	e.pad(len(b))
}

// opaque writes a variable-length opaque: its length, the bytes, the padding.
func (e *encoder) opaque(b []byte) {
	e.uint32(uint32(len(b)))
	e.b = append(e.b, b...)
	e.pad(len(b))
}

// optString writes remote_string: absent (nil) or present.
func (e *encoder) optString(s *string) {
	e.bool(s != nil)
	if s != nil {
		e.string(*s)
	}
}

// errShort is returned when a message ends before a value does.
var errShort = errors.New("xdr: message too short")

// decoder reads XDR values from a byte slice. The first error sticks: later reads return zero
// values, so a handler can read all its arguments and check err once.
type decoder struct {
	b   []byte
	off int
	err error
}

func (d *decoder) fail(err error) {
	if d.err == nil {
		d.err = err
	}
}

func (d *decoder) take(n int) []byte {
	if d.err != nil {
		return nil
	}
	if n < 0 || len(d.b)-d.off < n {
		d.fail(errShort)
		return nil
	}
	p := d.b[d.off : d.off+n]
	d.off += n
	return p
}

func (d *decoder) uint32() uint32 {
	p := d.take(4)
	if p == nil {
		return 0
	}
	return binary.BigEndian.Uint32(p)
}

func (d *decoder) int32() int32 { return int32(d.uint32()) }

func (d *decoder) uint64() uint64 {
	p := d.take(8)
	if p == nil {
		return 0
	}
	return binary.BigEndian.Uint64(p)
}

// bool reads an XDR boolean; anything but 0 or 1 is a malformed message.
func (d *decoder) bool() bool {
	v := d.uint32()
	if v > 1 {
		d.fail(fmt.Errorf("xdr: boolean is %d, expected 0 or 1", v))
		return false
	}
	return v == 1
}

// padded returns the bytes of an n-byte item and skips its padding.
func (d *decoder) padded(n int) []byte {
	p := d.take(n)
	if p != nil && n%4 != 0 {
		d.take(4 - n%4)
	}
	return p
}

// string reads a length-prefixed string of at most max bytes.
func (d *decoder) string(max int) string {
	n := d.uint32()
	if d.err != nil {
		return ""
	}
	if uint64(n) > uint64(max) {
		d.fail(fmt.Errorf("xdr: string of %d bytes exceeds the limit of %d", n, max))
		return ""
	}
	return string(d.padded(int(n)))
}

// optString reads remote_string: nil when absent.
func (d *decoder) optString(max int) *string {
	if !d.bool() {
		return nil
	}
	s := d.string(max)
	if d.err != nil {
		return nil
	}
	return &s
}

// fixedOpaque reads exactly n bytes (and their padding).
func (d *decoder) fixedOpaque(n int) []byte { return d.padded(n) }

// finish reports a decode error, or bytes left over after the last argument.
func (d *decoder) finish() error {
	if d.err != nil {
		return d.err
	}
	if d.off != len(d.b) {
		return fmt.Errorf("xdr: %d unexpected bytes after the arguments", len(d.b)-d.off)
	}
	return nil
}
