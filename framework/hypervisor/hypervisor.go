// Package hypervisor reads what a compute host's libvirtd says about a guest: its domain XML, the
// node-device XML of every PCI device passed through to it, and the host capabilities (NUMA
// cells, sockets, CPUs). It is the only package that imports the cgo binding
// libvirt.org/go/libvirt, so everything else builds without cgo.
//
// One connection per host is opened on first use and reused; calls are serialised per host
// because a libvirt connection shared between goroutines gives no ordering guarantee for the
// objects it hands out, and the harness makes few calls per spec. Every call is bounded: a
// libvirtd that stops answering (a frozen host, a stalled ssh link) makes the call give up at
// its context's deadline (or CallTimeout), and the next call gets a new connection, while the
// cgo call that cannot be cancelled finishes on its own and closes the old one.
package hypervisor

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"sync"
	"time"

	"libvirt.org/go/libvirt"

	"github.com/hwcert/hwcert/framework/placement"
)

// URIResolver maps a compute host (OS-EXT-SRV-ATTR:host) to its libvirt URI;
// (*config.Config).HypervisorURI is one.
type URIResolver func(host string) (string, error)

// Evidence is everything the hypervisor says about one guest.
type Evidence struct {
	Host string
	URI  string
	// DomainXML is the live domain XML (virsh dumpxml).
	DomainXML string
	// NodeDevXML is the node-device XML of every hostdev source address of the domain and of
	// the PF of every VF among them.
	NodeDevXML map[placement.Address]string
	// CapsXML is the host capabilities XML (virsh capabilities).
	CapsXML string
}

// Inspector holds one libvirt connection per host.
type Inspector struct {
	resolve URIResolver
	report  func(Retry) // nil: retries are not reported

	mu    sync.Mutex // guards conns
	conns map[string]*hostConn
}

type hostConn struct {
	turn chan struct{} // holds a token while a call uses conn; taken with the caller's context
	uri  string
	conn *libvirt.Connect
}

// CallTimeout bounds a libvirt call whose context has no earlier deadline.
const CallTimeout = 2 * time.Minute

// errCallAbandoned marks a call given up at its deadline while libvirt had not answered.
var errCallAbandoned = errors.New("libvirt did not answer in time; the call was abandoned and the connection will be reopened")

// New returns an inspector that opens connections lazily.
func New(resolve URIResolver) *Inspector {
	return &Inspector{resolve: resolve, conns: map[string]*hostConn{}}
}

// OnRetry has report called for every call run again after a plumbing failure, so that the
// spec's timeline shows the hiccups of the lab it rode out. Call it before the first call.
func (in *Inspector) OnRetry(report func(Retry)) { in.report = report }

// withConn runs fn with the host's connection, opening it if needed. Every call is a read, so
// one that failed on the plumbing (the connection dropped mid-call, libvirtd restarting) is run
// again on a new connection, with bounded backoff; a call abandoned at its deadline is not.
func (in *Inspector) withConn(ctx context.Context, host string, fn func(c *libvirt.Connect, uri string) error) error {
	for attempt := 1; ; attempt++ {
		err := in.once(ctx, host, fn)
		if err == nil || !retryable(err) || attempt >= retryAttempts || ctx.Err() != nil {
			return err
		}
		wait := min(retryBackoff<<(attempt-1), retryMaxBackoff)
		if in.report != nil {
			in.report(Retry{Host: host, Kind: RetryKind, Reason: err.Error(), Attempt: attempt, Wait: wait})
		}
		t := time.NewTimer(wait)
		select {
		case <-t.C:
		case <-ctx.Done():
			t.Stop()
			return fmt.Errorf("%w (gave up retrying: %w)", err, ctx.Err())
		}
	}
}

// once runs fn once with the host's connection, opening it if needed.
func (in *Inspector) once(ctx context.Context, host string, fn func(c *libvirt.Connect, uri string) error) error {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("host %s: %w", host, err)
	}
	in.mu.Lock()
	hc, ok := in.conns[host]
	if !ok {
		uri, err := in.resolve(host)
		if err != nil {
			in.mu.Unlock()
			return fmt.Errorf("host %s: %w", host, err)
		}
		hc = &hostConn{uri: uri, turn: make(chan struct{}, 1)}
		in.conns[host] = hc
	}
	in.mu.Unlock()

	ctx, cancel := context.WithTimeout(ctx, CallTimeout)
	defer cancel()
	select {
	case hc.turn <- struct{}{}:
	case <-ctx.Done():
		return fmt.Errorf("host %s (%s): waiting for the connection, in use by a call libvirt has not answered: %w", host, hc.uri, ctx.Err())
	}
	done := make(chan error, 1)
	go func() { done <- hc.call(fn) }()
	select {
	case err := <-done:
		<-hc.turn
		if err != nil {
			return fmt.Errorf("host %s (%s): %w", host, hc.uri, err)
		}
		return nil
	case <-ctx.Done():
		// The cgo call cannot be interrupted. The connection is retired (its turn stays taken,
		// so nobody waits on it) and closed once the call returns; the next call opens another.
		in.mu.Lock()
		if in.conns[host] == hc {
			delete(in.conns, host)
		}
		in.mu.Unlock()
		go func() {
			<-done
			hc.close()
		}()
		return fmt.Errorf("host %s (%s): %w: %w", host, hc.uri, errCallAbandoned, ctx.Err())
	}
}

// Keepalive: a PING every keepAliveInterval seconds, the peer dead after keepAliveCount
// unanswered ones (libvirt's virsh default is 5 s × 6).
var (
	keepAliveInterval      = 5
	keepAliveCount    uint = 3
)

var eventLoop sync.Once

// startEventLoop runs libvirt's default event loop, which the client's keepalive needs; it must
// be registered before the first connection opens, and runs for the life of the process.
func startEventLoop() {
	eventLoop.Do(func() {
		if err := libvirt.EventRegisterDefaultImpl(); err != nil {
			return // no keepalive; calls are still bounded by their deadlines
		}
		go func() {
			for libvirt.EventRunDefaultImpl() == nil {
			}
		}()
	})
}

// call runs fn on the connection, opening it (or reopening a dead one: libvirtd restarted, the
// ssh link dropped) first. Only the holder of the turn calls it.
func (hc *hostConn) call(fn func(c *libvirt.Connect, uri string) error) error {
	if hc.conn != nil {
		if alive, err := hc.conn.IsAlive(); err != nil || !alive {
			hc.close()
		}
	}
	if hc.conn == nil {
		startEventLoop()
		c, err := libvirt.NewConnect(hc.uri)
		if err != nil {
			return fmt.Errorf("connect to libvirt at %s: %w", hc.uri, err)
		}
		// With keepalive the client declares a peer dead that stops answering (a frozen host, an
		// ssh link that stalls), so a call in flight fails instead of waiting for its deadline.
		// A daemon without keepalive support still serves the calls: not a reason to fail.
		_ = c.SetKeepAlive(keepAliveInterval, keepAliveCount)
		hc.conn = c
	}
	err := fn(hc.conn, hc.uri)
	if err != nil && IsPlumbing(err) {
		// A connection that failed mid-call is not reused: the next call reconnects.
		hc.close()
	}
	return err
}

func (hc *hostConn) close() error {
	if hc.conn == nil {
		return nil
	}
	_, err := hc.conn.Close()
	hc.conn = nil
	return err
}

// Evidence fetches the domain of a guest (by libvirt name, falling back to the server UUID, which
// is the domain UUID), the node-device XML of each of its hostdevs and the host capabilities.
func (in *Inspector) Evidence(ctx context.Context, host, instanceName, uuid string) (*Evidence, error) {
	ev := &Evidence{Host: host, NodeDevXML: map[placement.Address]string{}}
	err := in.withConn(ctx, host, func(c *libvirt.Connect, uri string) error {
		ev.URI = uri
		dom, err := lookupDomain(c, instanceName, uuid)
		if err != nil {
			return err
		}
		defer dom.Free()
		ev.DomainXML, err = dom.GetXMLDesc(0)
		if err != nil {
			return fmt.Errorf("domain %s: XML: %w", orUUID(instanceName, uuid), err)
		}
		addrs, err := placement.HostdevAddresses(ev.DomainXML)
		if err != nil {
			return fmt.Errorf("domain %s: %w", orUUID(instanceName, uuid), err)
		}
		for _, a := range addrs {
			x, err := nodeDeviceXML(c, a.NodeDeviceName())
			if err != nil {
				return fmt.Errorf("hostdev %s of domain %s: %w", a, orUUID(instanceName, uuid), err)
			}
			ev.NodeDevXML[a] = x
		}
		// A VF's NUMA node is checked against its PF's, so the PF's node device is evidence too.
		for _, a := range addrs {
			pf, err := placement.PFAddress(ev.NodeDevXML[a])
			if err != nil || pf == nil {
				continue // Build reports a bad node device with its context
			}
			if _, ok := ev.NodeDevXML[*pf]; ok {
				continue
			}
			x, err := nodeDeviceXML(c, pf.NodeDeviceName())
			if err != nil {
				return fmt.Errorf("PF %s of hostdev %s of domain %s: %w", *pf, a, orUUID(instanceName, uuid), err)
			}
			ev.NodeDevXML[*pf] = x
		}
		ev.CapsXML, err = c.GetCapabilities()
		if err != nil {
			return fmt.Errorf("capabilities: %w", err)
		}
		return nil
	})
	if err != nil {
		return ev, err
	}
	return ev, nil
}

func orUUID(name, uuid string) string {
	if name != "" {
		return name
	}
	return uuid
}

func lookupDomain(c *libvirt.Connect, name, uuid string) (*libvirt.Domain, error) {
	var byName error
	if name != "" {
		d, err := c.LookupDomainByName(name)
		if err == nil {
			return d, nil
		}
		byName = err
	}
	if uuid != "" {
		d, err := c.LookupDomainByUUIDString(uuid)
		if err == nil {
			return d, nil
		}
		return nil, errors.Join(nameErr(name, byName), fmt.Errorf("no domain with UUID %s: %w", uuid, err))
	}
	if byName != nil {
		return nil, nameErr(name, byName)
	}
	return nil, errors.New("no domain name or UUID given (is OS-EXT-SRV-ATTR:instance_name visible to this user?)")
}

func nameErr(name string, err error) error {
	if err == nil {
		return nil
	}
	return fmt.Errorf("no domain named %q: %w", name, err)
}

func nodeDeviceXML(c *libvirt.Connect, name string) (string, error) {
	nd, err := c.LookupDeviceByName(name)
	if err != nil {
		return "", fmt.Errorf("node device %s: %w", name, err)
	}
	defer nd.Free()
	x, err := nd.GetXMLDesc(0)
	if err != nil {
		return "", fmt.Errorf("node device %s: XML: %w", name, err)
	}
	return x, nil
}

// PCIInventory lists every PCI node device of a host: node-device name → XML, so callers can see
// what the host has (vendor/product, PF/VF, NUMA node) without knowing any addresses.
func (in *Inspector) PCIInventory(ctx context.Context, host string) (map[string]string, error) {
	out := map[string]string{}
	err := in.withConn(ctx, host, func(c *libvirt.Connect, _ string) error {
		devs, err := c.ListAllNodeDevices(libvirt.CONNECT_LIST_NODE_DEVICES_CAP_PCI_DEV)
		if err != nil {
			return fmt.Errorf("list PCI node devices: %w", err)
		}
		defer func() {
			for i := range devs {
				_ = devs[i].Free()
			}
		}()
		for i := range devs {
			name, err := devs[i].GetName()
			if err != nil {
				return fmt.Errorf("node device name: %w", err)
			}
			x, err := devs[i].GetXMLDesc(0)
			if err != nil {
				return fmt.Errorf("node device %s: XML: %w", name, err)
			}
			out[name] = x
		}
		return nil
	})
	return out, err
}

// Capabilities is the host capabilities XML.
func (in *Inspector) Capabilities(ctx context.Context, host string) (string, error) {
	var caps string
	err := in.withConn(ctx, host, func(c *libvirt.Connect, _ string) error {
		var err error
		caps, err = c.GetCapabilities()
		if err != nil {
			return fmt.Errorf("capabilities: %w", err)
		}
		return nil
	})
	return caps, err
}

// Hosts are the hosts with an open or attempted connection, sorted.
func (in *Inspector) Hosts() []string {
	in.mu.Lock()
	defer in.mu.Unlock()
	out := make([]string, 0, len(in.conns))
	for h := range in.conns {
		out = append(out, h)
	}
	sort.Strings(out)
	return out
}

// Close closes every connection.
func (in *Inspector) Close() error {
	in.mu.Lock()
	defer in.mu.Unlock()
	var errs []error
	for host, hc := range in.conns {
		// A connection whose call is still in flight is closed by that call's end.
		select {
		case hc.turn <- struct{}{}:
			if err := hc.close(); err != nil {
				errs = append(errs, fmt.Errorf("host %s: close %s: %w", host, hc.uri, err))
			}
			<-hc.turn
		default:
		}
	}
	in.conns = map[string]*hostConn{}
	return errors.Join(errs...)
}

// IsNoDomain reports whether err says the domain does not exist.
func IsNoDomain(err error) bool {
	var le libvirt.Error
	return errors.As(err, &le) && le.Code == libvirt.ERR_NO_DOMAIN
}
