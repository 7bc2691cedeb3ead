package libvirtd

import (
	"time"

	"github.com/hwcert/hwcert/mock/chaos"
)

// The daemon's plumbing faults (package mock/chaos): libvirt-drop closes a connection instead of
// answering a call, as an ssh link that drops does; libvirt-restart takes the daemon away every
// EVERY for a while, as a libvirtd restarted by its host does: its connections are closed and a
// new one is closed as soon as it is accepted, until the daemon is back.

// Bounds of a restart's downtime: long enough that a client retrying at once fails again, short
// enough that a client backing off for a few seconds rides it out.
const (
	minDowntime = 50 * time.Millisecond
	maxDowntime = time.Second
)

// SetChaos makes the daemon's plumbing fail as c says (nil: never). Call it before Serve.
func (s *Server) SetChaos(c *chaos.Set) {
	s.chaos = c
	every := c.Duration(chaos.LibvirtRestart)
	if every <= 0 {
		return
	}
	s.wg.Add(1)
	go s.restarts(every)
}

// downtime is how long one restart keeps the daemon away.
func downtime(every time.Duration) time.Duration {
	return min(max(every/10, minDowntime), maxDowntime)
}

// restarts takes the daemon away every EVERY until Close; each host starts at its own seeded
// offset, so the hosts of a lab do not all go away at once.
func (s *Server) restarts(every time.Duration) {
	defer s.wg.Done()
	t := time.NewTimer(every/2 + time.Duration(s.chaos.Pick(int(every/time.Millisecond)))*time.Millisecond/2)
	defer t.Stop()
	for {
		select {
		case <-s.done:
			return
		case <-t.C:
		}
		t.Reset(every)
		if !s.chaos.Armed() {
			continue
		}
		down := downtime(every)
		s.chaos.Record(chaos.LibvirtRestart)
		s.log.Info("chaos: libvirtd restarting", "down_for", down)
		s.mu.Lock()
		s.downUntil = time.Now().Add(down)
		for c := range s.conns {
			c.Close()
		}
		s.mu.Unlock()
	}
}

// down reports whether the daemon is away (restarting): a connection accepted now is closed.
// Called with s.mu held.
func (s *Server) down() bool {
	return time.Now().Before(s.downUntil)
}

// dropCall decides whether the connection is closed instead of answering this message: any call
// of an opened connection but its close (a drop then is no fault a client would see).
func (s *Server) dropCall(sess *session, msg []byte) bool {
	if s.chaos == nil || !sess.opened {
		return false
	}
	h := parseHeader(msg[:headerSize])
	if h.Prog != remoteProgram || h.Type != typeCall || h.Proc == procConnectClose {
		return false
	}
	return s.chaos.Fire(chaos.LibvirtDrop)
}
