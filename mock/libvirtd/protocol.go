package libvirtd

import (
	"encoding/binary"
	"fmt"
)

// Wire constants from libvirt's src/rpc/virnetprotocol.x and src/remote/remote_protocol.x.
const (
	remoteProgram   = 0x20008086
	remoteVersion   = 1
	keepaliveProg   = 0x6b656570 // "keep"
	keepaliveVers   = 1
	keepalivePing   = 1
	keepalivePong   = 2
	headerSize      = 24
	lenSize         = 4
	messageMax      = 32 << 20 // VIR_NET_MESSAGE_MAX of libvirt 9.0
	stringMax       = 4 << 20  // VIR_NET_MESSAGE_STRING_MAX (remote_nonnull_string)
	domainListMax   = 16384    // REMOTE_DOMAIN_LIST_MAX
	domainIDListMax = 16384    // REMOTE_DOMAIN_ID_LIST_MAX
	nodeDevListMax  = 65536    // REMOTE_NODE_DEVICE_LIST_MAX
	nodeDevCapsMax  = 65536    // REMOTE_NODE_DEVICE_CAPS_LIST_MAX
	uuidLen         = 16
)

// Message types and statuses (virNetMessageType, virNetMessageStatus).
const (
	typeCall    = 0
	typeReply   = 1
	typeMessage = 2
	statusOK    = 0
	statusError = 1
)

// Procedures served (REMOTE_PROC_*).
const (
	procConnectOpen               = 1
	procConnectClose              = 2
	procConnectGetType            = 3
	procConnectGetVersion         = 4
	procNodeGetInfo               = 6
	procConnectGetCapabilities    = 7
	procDomainGetXMLDesc          = 14
	procDomainGetInfo             = 16
	procConnectListDefinedDomains = 21
	procDomainLookupByID          = 22
	procDomainLookupByName        = 23
	procDomainLookupByUUID        = 24
	procConnectNumOfDefinedDoms   = 25
	procConnectListDomains        = 37
	procConnectNumOfDomains       = 51
	procConnectGetHostname        = 59
	procConnectSupportsFeature    = 60
	procAuthList                  = 66
	procConnectGetURI             = 110
	procNodeNumOfDevices          = 111
	procNodeListDevices           = 112
	procNodeDeviceLookupByName    = 113
	procNodeDeviceGetXMLDesc      = 114
	procNodeDeviceGetParent       = 115
	procNodeDeviceNumOfCaps       = 116
	procNodeDeviceListCaps        = 117
	procDomainIsActive            = 150
	procDomainIsPersistent        = 151
	procConnectGetLibVersion      = 157
	procDomainGetState            = 212
	procConnectListAllDomains     = 273
	procConnectListAllNodeDevices = 285

	procDomainGetVcpus             = 20
	procDomainPinVcpu              = 26
	procNodeGetCellsFreeMemory     = 101
	procNodeGetFreeMemory          = 102
	procDomainMemoryStats          = 159
	procDomainGetVcpusFlags        = 200
	procConnectGetSysinfo          = 203
	procDomainPinVcpuFlags         = 225
	procNodeGetCPUStats            = 227
	procNodeGetMemoryStats         = 228
	procDomainGetVcpuPinInfo       = 230
	procDomainSetNumaParameters    = 254
	procDomainGetNumaParameters    = 255
	procDomainPinEmulator          = 279
	procDomainGetEmulatorPinInfo   = 280
	procConnectListAllStoragePools = 281
	procConnectListAllNetworks     = 283
	procNodeGetCPUMap              = 293
	procConnectGetDomainCaps       = 342
	procConnectGetAllDomainStats   = 344
)

// Driver features asked with CONNECT_SUPPORTS_FEATURE (VIR_DRV_FEATURE_*).
const (
	featureTypedParamString    = 9
	featureProgramKeepalive    = 10
	featureRemoteEventCallback = 14
	featureRemoteCloseCallback = 15
)

// libvirt error codes (virErrorNumber), domains (virErrorDomain) and level.
const (
	errInternal             = 1
	errNoSupport            = 3
	errInvalidArg           = 8
	errRPC                  = 39
	errNoDomain             = 42
	errNoNodeDevice         = 53
	errOperationInvalid     = 55
	errOperationUnsupported = 84
	errAgentUnresponsive    = 86

	fromNone    = 0
	fromRPC     = 7
	fromQEMU    = 10
	fromRemote  = 13
	fromStorage = 18
	fromNetwork = 19
	fromNodeDev = 22

	levelError = 2
)

// header is virNetMessageHeader.
type header struct {
	Prog, Vers uint32
	Proc       int32
	Type       uint32
	Serial     uint32
	Status     uint32
}

func (h header) String() string {
	return fmt.Sprintf("prog=%#x vers=%d proc=%d type=%d serial=%d status=%d", h.Prog, h.Vers, h.Proc, h.Type, h.Serial, h.Status)
}

func parseHeader(b []byte) header {
	return header{
		Prog:   binary.BigEndian.Uint32(b[0:]),
		Vers:   binary.BigEndian.Uint32(b[4:]),
		Proc:   int32(binary.BigEndian.Uint32(b[8:])),
		Type:   binary.BigEndian.Uint32(b[12:]),
		Serial: binary.BigEndian.Uint32(b[16:]),
		Status: binary.BigEndian.Uint32(b[20:]),
	}
}

// frame builds a complete message: length word, header, payload.
func frame(h header, payload []byte) []byte {
	e := &encoder{b: make([]byte, 0, lenSize+headerSize+len(payload))}
	e.uint32(uint32(lenSize + headerSize + len(payload)))
	e.uint32(h.Prog)
	e.uint32(h.Vers)
	e.int32(h.Proc)
	e.uint32(h.Type)
	e.uint32(h.Serial)
	e.uint32(h.Status)
	e.b = append(e.b, payload...)
	return e.b
}

// rpcError is a libvirt error as it travels in remote_error: the client turns it into a virError
// (libvirt.Error in Go) with the same code, domain, message and level.
type rpcError struct {
	Code    int32
	Domain  int32
	Message string
}

func (e *rpcError) Error() string {
	return fmt.Sprintf("libvirt error %d (domain %d): %s", e.Code, e.Domain, e.Message)
}

// encode writes remote_error. libvirt clients print message as is, so it carries the
// code's prefix ("Domain not found: ...") exactly as virErrorMsg formats it.
func (e *rpcError) encode(enc *encoder) {
	msg := e.Message
	enc.int32(e.Code)
	enc.int32(e.Domain)
	enc.optString(&msg)
	enc.int32(levelError)
	enc.bool(false) // dom
	enc.optString(nil)
	enc.optString(nil)
	enc.optString(nil)
	enc.int32(0)    // int1
	enc.int32(0)    // int2
	enc.bool(false) // net
}

func errNoDomainName(name string) *rpcError {
	return &rpcError{errNoDomain, fromQEMU, fmt.Sprintf("Domain not found: no domain with matching name '%s'", name)}
}

func errNoDomainUUID(uuid string) *rpcError {
	return &rpcError{errNoDomain, fromQEMU, fmt.Sprintf("Domain not found: no domain with matching uuid '%s'", uuid)}
}

// errNoDomainObj is what the QEMU driver says when a domain handle no longer matches a domain.
func errNoDomainObj(uuid, name string) *rpcError {
	return &rpcError{errNoDomain, fromQEMU, fmt.Sprintf("Domain not found: no domain with matching uuid '%s' (%s)", uuid, name)}
}

func errNoDomainID(id int32) *rpcError {
	return &rpcError{errNoDomain, fromQEMU, fmt.Sprintf("Domain not found: no domain with matching id %d", id)}
}

func errNoNodeDev(name string) *rpcError {
	return &rpcError{errNoNodeDevice, fromNodeDev, fmt.Sprintf("Node device not found: no node device with matching name '%s'", name)}
}

// errFlags is virCheckFlags' error: the unsupported bits and the driver function's name.
func errFlags(domain int32, unsupported uint32, function string) *rpcError {
	return &rpcError{errInvalidArg, domain, fmt.Sprintf("invalid argument: unsupported flags (0x%x) in function %s", unsupported, function)}
}

func errInvalid(domain int32, format string, args ...any) *rpcError {
	return &rpcError{errInvalidArg, domain, "invalid argument: " + fmt.Sprintf(format, args...)}
}

func errUnknownProc(proc int32) *rpcError {
	return &rpcError{errNoSupport, fromRPC, fmt.Sprintf("this function is not supported by the connection driver: unknown procedure: %d", proc)}
}

func errDecode(err error) *rpcError {
	return &rpcError{errRPC, fromRPC, fmt.Sprintf("Unable to decode message payload: %v", err)}
}

func errNotOpen() *rpcError {
	return &rpcError{errInternal, fromRPC, "internal error: connection not open"}
}

func errInternalf(format string, args ...any) *rpcError {
	return &rpcError{errInternal, fromQEMU, "internal error: " + fmt.Sprintf(format, args...)}
}
