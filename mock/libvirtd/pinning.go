package libvirtd

import "fmt"

// The procedures behind `virsh vcpupin`, `emulatorpin`, `vcpuinfo`, `vcpucount` and `numatune`:
// read-only views of the placement in the domain XML. Changing it is refused as unsupported, since
// the mock's placement is what its scheduler decided and Nova never repins a running guest.

// virDomainModificationImpact and virDomainVcpuFlags bits.
const (
	affectLive       = 1 << 0
	affectConfig     = 1 << 1
	vcpuMaximum      = 1 << 2
	vcpuGuest        = 1 << 3
	vcpuHotpluggable = 1 << 4
	typedParamString = 1 << 2 // VIR_TYPED_PARAM_STRING_OKAY
)

// Limits of remote_protocol.x.
const (
	cpumapMax        = 2048  // REMOTE_CPUMAP_MAX
	cpumapsMax       = 16384 // REMOTE_CPUMAPS_MAX
	vcpuInfoMax      = 16384 // REMOTE_VCPUINFO_MAX
	numaParamsMax    = 16    // REMOTE_DOMAIN_NUMA_PARAMETERS_MAX
	numaParamsCount  = 2     // numa_mode, numa_nodeset (QEMU_NB_NUMA_PARAM)
	vcpuStateRunning = 1     // VIR_VCPU_RUNNING
)

// hostCPUs are the host's CPU ids in order.
func (s *Server) hostCPUs() []int {
	if s.inv == nil {
		return nil
	}
	out := make([]int, 0, len(s.inv.CPUs))
	for _, c := range s.inv.CPUs {
		out = append(out, c.ID)
	}
	return out
}

// hostCPUCount is what virNodeGetCPUMap returns: the highest CPU id plus one.
func (s *Server) hostCPUCount() int {
	n := 0
	for _, c := range s.hostCPUs() {
		n = max(n, c+1)
	}
	return n
}

func (s *session) nodeGetCPUMap(d *decoder, e *encoder) *rpcError {
	needMap := d.int32()
	needOnline := d.int32()
	flags := d.uint32()
	if err := done(d); err != nil {
		return err
	}
	if flags != 0 {
		return errFlags(fromQEMU, flags, "qemuNodeGetCPUMap")
	}
	n := s.srv.hostCPUCount()
	if needMap != 0 {
		e.opaque(cpumap(s.srv.hostCPUs(), (n+7)/8))
	} else {
		e.opaque(nil)
	}
	if needOnline != 0 {
		e.uint32(uint32(len(s.srv.hostCPUs()))) // every CPU of the mock is online
	} else {
		e.uint32(0)
	}
	e.int32(int32(n))
	return nil
}

// domainWithFlags reads remote_nonnull_domain and flags, resolves the domain, and checks the
// flags against supported and the LIVE flag against the domain's state, as the QEMU driver does.
func (s *session) domainWithFlags(d *decoder, read func(*decoder), supported uint32, function string) (*domain, uint32, *rpcError) {
	name, uuid := s.domainArg(d)
	if read != nil {
		read(d)
	}
	flags := d.uint32()
	if err := done(d); err != nil {
		return nil, 0, err
	}
	if bad := flags &^ supported; bad != 0 {
		return nil, 0, errFlags(fromQEMU, bad, function)
	}
	dom, ok := s.findByUUID(uuid)
	if !ok {
		return nil, 0, errNoDomainObj(formatUUID(uuid), name)
	}
	if flags&affectLive != 0 && !dom.Active {
		return nil, 0, errNotRunning()
	}
	return dom, flags, nil
}

func (s *session) domainGetVcpusFlags(d *decoder, e *encoder) *rpcError {
	dom, flags, err := s.domainWithFlags(d, nil, affectLive|affectConfig|vcpuMaximum|vcpuGuest|vcpuHotpluggable, "qemuDomainGetVcpusFlags")
	if err != nil {
		return err
	}
	if flags&vcpuGuest != 0 {
		return &rpcError{errAgentUnresponsive, fromQEMU, "Guest agent is not responding: QEMU guest agent is not connected"}
	}
	t, err := s.tuningOf(dom)
	if err != nil {
		return err
	}
	// Nova guests have no hotpluggable vCPUs: maximum and current are the same.
	e.int32(int32(t.vcpus))
	return nil
}

// checkMaplen validates the maplen argument of the pinning procedures against the host.
func (s *session) checkMaplen(maplen int32) *rpcError {
	if maplen <= 0 || maplen > cpumapMax {
		return &rpcError{errRPC, fromRPC, fmt.Sprintf("RPC error: maplen must be between 1 and %d", cpumapMax)}
	}
	return nil
}

func (s *session) domainGetVcpuPinInfo(d *decoder, e *encoder) *rpcError {
	var ncpumaps, maplen int32
	dom, _, err := s.domainWithFlags(d, func(d *decoder) { ncpumaps = d.int32(); maplen = d.int32() },
		affectLive|affectConfig, "qemuDomainGetVcpuPinInfo")
	if err != nil {
		return err
	}
	if ncpumaps < 0 || ncpumaps > vcpuInfoMax {
		return &rpcError{errRPC, fromRPC, "RPC error: ncpumaps > REMOTE_VCPUINFO_MAX"}
	}
	if err := s.checkMaplen(maplen); err != nil {
		return err
	}
	if int64(ncpumaps)*int64(maplen) > cpumapsMax {
		return &rpcError{errRPC, fromRPC, "RPC error: maxinfo * maplen > REMOTE_CPUMAPS_MAX"}
	}
	t, err := s.tuningOf(dom)
	if err != nil {
		return err
	}
	n := min(int(ncpumaps), t.vcpus)
	var maps []byte
	for v := 0; v < n; v++ {
		maps = append(maps, cpumap(t.pins[v], int(maplen))...)
	}
	e.opaque(maps)
	e.int32(int32(n))
	return nil
}

func (s *session) domainGetEmulatorPinInfo(d *decoder, e *encoder) *rpcError {
	var maplen int32
	dom, _, err := s.domainWithFlags(d, func(d *decoder) { maplen = d.int32() }, affectLive|affectConfig, "qemuDomainGetEmulatorPinInfo")
	if err != nil {
		return err
	}
	if err := s.checkMaplen(maplen); err != nil {
		return err
	}
	t, err := s.tuningOf(dom)
	if err != nil {
		return err
	}
	e.opaque(cpumap(t.emulator, int(maplen)))
	e.int32(1)
	return nil
}

// domainGetVcpus answers virDomainGetVcpus (virsh vcpuinfo) for a running domain: each vCPU runs,
// on the first host CPU it may use, and has burnt no CPU time (the mock's guests execute nothing).
func (s *session) domainGetVcpus(d *decoder, e *encoder) *rpcError {
	name, uuid := s.domainArg(d)
	maxinfo := d.int32()
	maplen := d.int32()
	if err := done(d); err != nil {
		return err
	}
	if maxinfo < 0 || maxinfo > vcpuInfoMax {
		return &rpcError{errRPC, fromRPC, "RPC error: maxinfo > REMOTE_VCPUINFO_MAX"}
	}
	if int64(maxinfo)*int64(maplen) > cpumapsMax {
		return &rpcError{errRPC, fromRPC, "RPC error: maxinfo * maplen > REMOTE_CPUMAPS_MAX"}
	}
	dom, ok := s.findByUUID(uuid)
	if !ok {
		return errNoDomainObj(formatUUID(uuid), name)
	}
	if !dom.Active {
		return &rpcError{errOperationInvalid, fromQEMU, "Requested operation is not valid: cannot retrieve vcpu information for inactive domain"}
	}
	t, err := s.tuningOf(dom)
	if err != nil {
		return err
	}
	n := min(int(maxinfo), t.vcpus)
	e.uint32(uint32(n))
	for v := 0; v < n; v++ {
		cpu := int32(-1)
		if len(t.pins[v]) > 0 {
			cpu = int32(t.pins[v][0])
		}
		e.uint32(uint32(v))
		e.int32(vcpuStateRunning)
		e.uint64(0)
		e.int32(cpu)
	}
	// libvirtd sends the whole cpumaps buffer the client sized, maxinfo * maplen bytes.
	var maps []byte
	for v := 0; v < int(maxinfo); v++ {
		var pins []int
		if v < n {
			pins = t.pins[v]
		}
		maps = append(maps, cpumap(pins, max(0, int(maplen)))...)
	}
	e.opaque(maps)
	return nil
}

func (s *session) domainGetNumaParameters(d *decoder, e *encoder) *rpcError {
	var nparams int32
	dom, flags, err := s.domainWithFlags(d, func(d *decoder) { nparams = d.int32() },
		affectLive|affectConfig|typedParamString, "qemuDomainGetNumaParameters")
	if err != nil {
		return err
	}
	if nparams < 0 || nparams > numaParamsMax {
		return &rpcError{errRPC, fromRPC, "RPC error: nparams too large"}
	}
	if nparams == 0 {
		// The client asks how many parameters there are first.
		encodeArray(e, []typedParam(nil), encodeTypedParam)
		e.int32(numaParamsCount)
		return nil
	}
	t, err := s.tuningOf(dom)
	if err != nil {
		return err
	}
	params := []typedParam{intParam("numa_mode", numaModes[t.numaMode]), stringParam("numa_nodeset", t.nodeset)}
	params = params[:min(len(params), int(nparams))]
	n := int32(len(params))
	// Without VIR_TYPED_PARAM_STRING_OKAY the daemon leaves string parameters out of the array.
	if flags&typedParamString == 0 {
		params = withoutStrings(params)
	}
	encodeArray(e, params, encodeTypedParam)
	e.int32(n)
	return nil
}

// refusePinning answers the procedures that would change a domain's placement.
func refusePinning(what string) func(*session, *decoder, *encoder) *rpcError {
	return func(*session, *decoder, *encoder) *rpcError {
		return &rpcError{errOperationUnsupported, fromQEMU,
			fmt.Sprintf("Operation not supported: %s: the mock lab's placement is fixed by its scheduler", what)}
	}
}
