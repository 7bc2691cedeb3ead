package libvirtd

import "slices"

// virTypedParameterType: the discriminant of remote_typed_param_value.
const (
	paramInt     = 1
	paramUInt    = 2
	paramLLong   = 3
	paramULLong  = 4
	paramBoolean = 6
	paramString  = 7
)

// typedParam is remote_typed_param: a field name and one value of the kind its type says.
type typedParam struct {
	field string
	kind  int32
	num   uint64 // int, uint, llong, ullong, boolean (two's complement for the signed ones)
	str   string
}

func intParam(f string, v int32) typedParam     { return typedParam{f, paramInt, uint64(uint32(v)), ""} }
func uintParam(f string, v uint32) typedParam   { return typedParam{f, paramUInt, uint64(v), ""} }
func llongParam(f string, v int64) typedParam   { return typedParam{f, paramLLong, uint64(v), ""} }
func ullongParam(f string, v uint64) typedParam { return typedParam{f, paramULLong, v, ""} }
func stringParam(f, v string) typedParam        { return typedParam{f, paramString, 0, v} }

func encodeTypedParam(e *encoder, p typedParam) {
	e.string(p.field)
	e.int32(p.kind)
	switch p.kind {
	case paramInt, paramUInt, paramBoolean:
		e.uint32(uint32(p.num))
	case paramLLong, paramULLong:
		e.uint64(p.num)
	case paramString:
		e.string(p.str)
	}
}

func withoutStrings(ps []typedParam) []typedParam {
	return slices.DeleteFunc(slices.Clone(ps), func(p typedParam) bool { return p.kind == paramString })
}
