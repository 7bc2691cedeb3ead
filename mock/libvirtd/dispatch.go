package libvirtd

import (
	"fmt"
	"log/slog"
)

// This file is the procedure table and the dispatch of one call; the procedures themselves are
// in connect.go (the connection and the host), domains.go, nodedevs.go, pinning.go (vCPU and
// memory placement), node.go (host memory, CPU, sysinfo, domain capabilities) and domstats.go. Each procedure decodes
// its own arguments in wire order, calls done, then checks flags and limits in the order libvirt
// does: that shape repeats from procedure to procedure on purpose, since the order of the checks
// decides which error a client sees.

// session is the state of one client connection.
type session struct {
	srv    *Server
	log    *slog.Logger
	opened bool
}

type handler struct {
	fn func(s *session, d *decoder, e *encoder) *rpcError
	// preOpen marks the calls the handshake makes before CONNECT_OPEN.
	preOpen bool
}

var handlers map[int32]handler

func init() {
	handlers = map[int32]handler{
		procAuthList:                   {(*session).authList, true},
		procConnectSupportsFeature:     {(*session).supportsFeature, true},
		procConnectOpen:                {(*session).connectOpen, true},
		procConnectClose:               {(*session).connectClose, false},
		procConnectGetType:             {answerString(func(*session) string { return "QEMU" }), false},
		procConnectGetVersion:          {answerUint64(qemuVersion), false},
		procConnectGetLibVersion:       {answerUint64(libVersion), false},
		procConnectGetHostname:         {answerString(func(s *session) string { return s.srv.host }), false},
		procConnectGetURI:              {answerString(func(*session) string { return "qemu:///system" }), false},
		procNodeGetInfo:                {(*session).nodeGetInfo, false},
		procConnectGetCapabilities:     {(*session).getCapabilities, false},
		procConnectListAllDomains:      {(*session).listAllDomains, false},
		procConnectNumOfDomains:        {runningDomains.count, false},
		procConnectListDomains:         {runningDomains.list, false},
		procConnectNumOfDefinedDoms:    {definedDomains.count, false},
		procConnectListDefinedDomains:  {definedDomains.list, false},
		procDomainLookupByName:         {(*session).lookupByName, false},
		procDomainLookupByUUID:         {(*session).lookupByUUID, false},
		procDomainLookupByID:           {(*session).lookupByID, false},
		procDomainGetXMLDesc:           {(*session).domainGetXMLDesc, false},
		procDomainGetState:             {(*session).domainGetState, false},
		procDomainGetInfo:              {(*session).domainGetInfo, false},
		procDomainIsActive:             {(*session).domainIsActive, false},
		procDomainIsPersistent:         {(*session).domainIsPersistent, false},
		procConnectListAllNodeDevices:  {(*session).listAllNodeDevices, false},
		procNodeNumOfDevices:           {(*session).nodeNumOfDevices, false},
		procNodeListDevices:            {(*session).nodeListDevices, false},
		procNodeDeviceLookupByName:     {(*session).nodeDeviceLookupByName, false},
		procNodeDeviceGetXMLDesc:       {(*session).nodeDeviceGetXMLDesc, false},
		procNodeDeviceGetParent:        {(*session).nodeDeviceGetParent, false},
		procNodeDeviceNumOfCaps:        {(*session).nodeDeviceNumOfCaps, false},
		procNodeDeviceListCaps:         {(*session).nodeDeviceListCaps, false},
		procNodeGetCPUMap:              {(*session).nodeGetCPUMap, false},
		procDomainGetVcpusFlags:        {(*session).domainGetVcpusFlags, false},
		procDomainGetVcpuPinInfo:       {(*session).domainGetVcpuPinInfo, false},
		procDomainGetEmulatorPinInfo:   {(*session).domainGetEmulatorPinInfo, false},
		procDomainGetVcpus:             {(*session).domainGetVcpus, false},
		procDomainGetNumaParameters:    {(*session).domainGetNumaParameters, false},
		procDomainPinVcpu:              {refusePinning("virDomainPinVcpu"), false},
		procDomainPinVcpuFlags:         {refusePinning("virDomainPinVcpuFlags"), false},
		procDomainPinEmulator:          {refusePinning("virDomainPinEmulator"), false},
		procDomainSetNumaParameters:    {refusePinning("virDomainSetNumaParameters"), false},
		procNodeGetFreeMemory:          {(*session).nodeGetFreeMemory, false},
		procNodeGetCellsFreeMemory:     {(*session).nodeGetCellsFreeMemory, false},
		procNodeGetMemoryStats:         {(*session).nodeGetMemoryStats, false},
		procNodeGetCPUStats:            {(*session).nodeGetCPUStats, false},
		procConnectGetSysinfo:          {(*session).getSysinfo, false},
		procConnectGetDomainCaps:       {(*session).getDomainCapabilities, false},
		procConnectListAllStoragePools: {listAllStoragePools, false},
		procConnectListAllNetworks:     {listAllNetworks, false},
		procDomainMemoryStats:          {(*session).domainMemoryStats, false},
		procConnectGetAllDomainStats:   {(*session).connectGetAllDomainStats, false},
	}
}

// handle processes one message (header + payload) and returns the bytes to send back, or nil.
func (s *session) handle(msg []byte) []byte {
	h := parseHeader(msg[:headerSize])
	payload := msg[headerSize:]
	if h.Prog == keepaliveProg {
		// Keepalive messages never get a REPLY: a PING gets a PONG, anything else is dropped.
		if h.Type == typeMessage && h.Proc == keepalivePing {
			s.log.Debug("keepalive ping")
			return frame(header{Prog: keepaliveProg, Vers: keepaliveVers, Proc: keepalivePong, Type: typeMessage}, nil)
		}
		return nil
	}
	if h.Type != typeCall {
		s.log.Debug("ignoring a message that is not a call", "header", h.String())
		return nil
	}
	reply := header{Prog: h.Prog, Vers: h.Vers, Proc: h.Proc, Type: typeReply, Serial: h.Serial, Status: statusOK}
	var rerr *rpcError
	e := &encoder{}
	switch {
	case h.Prog != remoteProgram || h.Vers != remoteVersion:
		rerr = &rpcError{errRPC, fromRPC, fmt.Sprintf("RPC error: cannot find program %d version %d", h.Prog, h.Vers)}
	default:
		hd, ok := handlers[h.Proc]
		switch {
		case !ok:
			rerr = errUnknownProc(h.Proc)
		case !hd.preOpen && !s.opened:
			rerr = errNotOpen()
		default:
			d := &decoder{b: payload}
			rerr = hd.fn(s, d, e)
		}
	}
	if rerr != nil {
		s.log.Debug("call failed", "proc", h.Proc, "serial", h.Serial, "code", rerr.Code, "message", rerr.Message)
		reply.Status = statusError
		e = &encoder{}
		rerr.encode(e)
	} else {
		s.log.Debug("call", "proc", h.Proc, "serial", h.Serial)
	}
	return frame(reply, e.b)
}

// done checks that the arguments decoded cleanly and completely.
func done(d *decoder) *rpcError {
	if err := d.finish(); err != nil {
		return errDecode(err)
	}
	return nil
}

// pairFilter applies one include-if/include-if-not pair of list flags: with neither or both bits
// set everything passes.
func pairFilter(flags, yes, no uint32, has bool) bool {
	y, n := flags&yes != 0, flags&no != 0
	if y == n {
		return true
	}
	return has == y
}

// The list procedures of every kind answer the same way, written once here: the legacy ones
// (ListDomains, NodeListDevices, NodeDeviceListCaps, ...) send at most maxnames items, the
// ListAll ones the items only when the client asked for them, then their count.

// encodeArray writes an XDR variable-length array.
func encodeArray[T any](e *encoder, items []T, write func(*encoder, T)) {
	e.uint32(uint32(len(items)))
	for _, it := range items {
		write(e, it)
	}
}

// encodeListAll writes the reply of a ListAll procedure: the items if need is set (else an empty
// array), then how many there are.
func encodeListAll[T any](e *encoder, need int32, items []T, write func(*encoder, T)) {
	if need != 0 {
		encodeArray(e, items, write)
	} else {
		e.uint32(0)
	}
	e.uint32(uint32(len(items)))
}

// firstN is what a legacy list procedure sends: the first n items (none for n < 1). The
// procedures check n against their limits before.
func firstN[T any](items []T, n int32) []T {
	return items[:min(len(items), max(0, int(n)))]
}
