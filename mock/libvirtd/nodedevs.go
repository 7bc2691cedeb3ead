package libvirtd

import (
	"fmt"
)

// VIR_CONNECT_LIST_NODE_DEVICES_* as libvirt 9.0 knows them: capability bits 0-21, then
// INACTIVE and ACTIVE. Anything else is refused, as virCheckFlags does.
const (
	listCapSystem     = 1 << 0
	listCapPCI        = 1 << 1
	listCapAll        = 1<<22 - 1
	listNodeInactive  = 1 << 30
	listNodeActive    = 1 << 31
	listNodeSupported = listCapAll | listNodeInactive | listNodeActive
)

// "pci"); a nil cap means every device.
func (s *session) devicesWithCap(cap *string) []*nodeDevice {
	var out []*nodeDevice
	for i := range s.srv.devices {
		nd := &s.srv.devices[i]
		if cap == nil || *cap == nd.cap {
			out = append(out, nd)
		}
	}
	return out
}

// encodeDeviceName writes a node device as the list procedures name it.
func encodeDeviceName(e *encoder, nd *nodeDevice) { e.string(nd.name) }

func (s *session) listAllNodeDevices(d *decoder, e *encoder) *rpcError {
	need := d.int32()
	flags := d.uint32()
	if err := done(d); err != nil {
		return err
	}
	if bad := flags &^ listNodeSupported; bad != 0 {
		return errFlags(fromNodeDev, bad, "nodeConnectListAllNodeDevices")
	}
	var match []*nodeDevice
	for i := range s.srv.devices {
		nd := &s.srv.devices[i]
		if caps := flags & listCapAll; caps != 0 && caps&nd.flag == 0 {
			continue
		}
		// Every device of the mock is active (present in sysfs); none is an inactive mdev.
		if !pairFilter(flags, listNodeActive, listNodeInactive, true) {
			continue
		}
		match = append(match, nd)
	}
	encodeListAll(e, need, match, encodeDeviceName)
	return nil
}

func (s *session) nodeNumOfDevices(d *decoder, e *encoder) *rpcError {
	cap := d.optString(stringMax)
	flags := d.uint32()
	if err := done(d); err != nil {
		return err
	}
	if flags != 0 {
		return errFlags(fromNodeDev, flags, "nodeNumOfDevices")
	}
	e.int32(int32(len(s.devicesWithCap(cap))))
	return nil
}

func (s *session) nodeListDevices(d *decoder, e *encoder) *rpcError {
	cap := d.optString(stringMax)
	maxNames := d.int32()
	flags := d.uint32()
	if err := done(d); err != nil {
		return err
	}
	if maxNames > nodeDevListMax {
		return &rpcError{errRPC, fromRPC, "RPC error: maxnames > REMOTE_NODE_DEVICE_LIST_MAX"}
	}
	if maxNames < 0 {
		return errInvalid(fromNodeDev, "maxnames in nodeListDevices must be non-negative, got %d", maxNames)
	}
	if flags != 0 {
		return errFlags(fromNodeDev, flags, "nodeListDevices")
	}
	encodeArray(e, firstN(s.devicesWithCap(cap), maxNames), encodeDeviceName)
	return nil
}

func (s *session) device(name string) (*nodeDevice, *rpcError) {
	i, ok := s.srv.byName[name]
	if !ok {
		return nil, errNoNodeDev(name)
	}
	return &s.srv.devices[i], nil
}

// resolveDevice reads the argument of the procedures that take a node device name only.
func (s *session) resolveDevice(d *decoder) (*nodeDevice, *rpcError) {
	name := d.string(stringMax)
	if err := done(d); err != nil {
		return nil, err
	}
	return s.device(name)
}

func (s *session) nodeDeviceLookupByName(d *decoder, e *encoder) *rpcError {
	nd, err := s.resolveDevice(d)
	if err != nil {
		return err
	}
	e.string(nd.name)
	return nil
}

func (s *session) nodeDeviceGetXMLDesc(d *decoder, e *encoder) *rpcError {
	name := d.string(stringMax)
	flags := d.uint32()
	if err := done(d); err != nil {
		return err
	}
	nd, err := s.device(name)
	if err != nil {
		return err
	}
	if flags != 0 {
		return errFlags(fromNodeDev, flags, "nodeDeviceGetXMLDesc")
	}
	if nd.err != nil {
		return &rpcError{errInternal, fromNodeDev, fmt.Sprintf("internal error: cannot format node device %s: %v", nd.name, nd.err)}
	}
	e.string(nd.xml)
	return nil
}

func (s *session) nodeDeviceGetParent(d *decoder, e *encoder) *rpcError {
	nd, err := s.resolveDevice(d)
	if err != nil {
		return err
	}
	if nd.parent == "" {
		e.optString(nil)
	} else {
		p := nd.parent
		e.optString(&p)
	}
	return nil
}

func (s *session) nodeDeviceNumOfCaps(d *decoder, e *encoder) *rpcError {
	if _, err := s.resolveDevice(d); err != nil {
		return err
	}
	e.int32(1)
	return nil
}

func (s *session) nodeDeviceListCaps(d *decoder, e *encoder) *rpcError {
	name := d.string(stringMax)
	maxNames := d.int32()
	if err := done(d); err != nil {
		return err
	}
	if maxNames > nodeDevCapsMax {
		return &rpcError{errRPC, fromRPC, "RPC error: maxnames > REMOTE_NODE_DEVICE_CAPS_LIST_MAX"}
	}
	nd, err := s.device(name)
	if err != nil {
		return err
	}
	// A node device of the mock has one capability: pci, or system for the computer.
	encodeArray(e, firstN([]string{nd.cap}, maxNames), (*encoder).string)
	return nil
}
