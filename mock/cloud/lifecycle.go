package cloud

import (
	"slices"
	"time"
)

// More statuses, vm_states, task_states and power states of Nova's server lifecycle
// (nova/compute/vm_states.py, task_states.py, power_state.py, and the status map of
// nova/api/openstack/common.py).
const (
	StatusShutoff    = "SHUTOFF"
	StatusReboot     = "REBOOT"
	StatusHardReboot = "HARD_REBOOT"

	vmActive  = "active"
	vmStopped = "stopped"
	vmError   = "error"

	taskPoweringOff   = "powering-off"
	taskPoweringOn    = "powering-on"
	taskRebooting     = "rebooting"
	taskRebootingHard = "rebooting_hard"

	PowerShutdown = 4
)

// Reboot types of POST /servers/{id}/action {"reboot": {"type": ...}}.
const (
	RebootSoft = "SOFT"
	RebootHard = "HARD"
)

// Action is one entry of os-instance-actions: what a user asked of a server, with the events
// the services recorded for it.
type Action struct {
	Action    string // create, delete, stop, start, reboot
	RequestID string
	ServerID  string
	ProjectID string
	UserID    string
	StartTime time.Time
	UpdatedAt time.Time
	// Message is "Error" once an event of the action failed (Nova's action_event_finish).
	Message string
	Events  []ActionEvent
}

// ActionEvent is one step of an action, as a Nova service recorded it.
type ActionEvent struct {
	Event      string // e.g. compute__do_build_and_run_instance
	StartTime  time.Time
	FinishTime time.Time
	Result     string // Success or Error
	Host       string
	// Details is the fault message of a failed event (2.84+).
	Details string
}

func (a Action) clone() Action {
	a.Events = slices.Clone(a.Events)
	return a
}

// recordAction starts an action of a server. The caller holds c.mu.
func (c *Cloud) recordAction(s *Server, action string, now time.Time) *Action {
	c.actions[s.ID] = append(c.actions[s.ID], &Action{
		Action: action, RequestID: "req-" + newUUID(), ServerID: s.ID,
		ProjectID: s.TenantID, UserID: s.UserID, StartTime: now, UpdatedAt: now,
	})
	return c.actions[s.ID][len(c.actions[s.ID])-1]
}

// finishEvent records a finished event of an action. The caller holds c.mu.
func (a *Action) finishEvent(event, host, failure string, start, now time.Time) {
	ev := ActionEvent{Event: event, StartTime: start, FinishTime: now, Result: "Success", Host: host}
	if failure != "" {
		ev.Result, ev.Details, a.Message = "Error", failure, "Error"
	}
	a.Events = append(a.Events, ev)
	a.UpdatedAt = now
}

// Actions returns the actions of a server, oldest first; those of a deleted server stay, as in
// Nova (readable with microversion 2.21+).
func (c *Cloud) Actions(serverID string) ([]Action, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	list, ok := c.actions[serverID]
	if !ok {
		return nil, false
	}
	out := make([]Action, len(list))
	for i, a := range list {
		out[i] = a.clone()
	}
	return out, true
}

// Stop powers a server off (os-stop). Nova accepts it for an ACTIVE server; the domain stays
// defined, shut off, with its devices and NUMA placement still claimed.
func (c *Cloud) Stop(id string) error {
	return c.transition(id, "stop", []string{vmActive}, taskPoweringOff, "compute_stop_instance", func(s *Server) {
		s.Status, s.VMState, s.PowerState = StatusShutoff, vmStopped, PowerShutdown
	})
}

// Start powers a stopped server on (os-start). Nova's libvirt driver does that with a hard
// reboot: the same domain, the same hostdevs, the same pinning.
func (c *Cloud) Start(id string) error {
	return c.transition(id, "start", []string{vmStopped}, taskPoweringOn, "compute_start_instance", func(s *Server) {
		s.Status, s.VMState, s.PowerState = StatusActive, vmActive, PowerRunning
	})
}

// Reboot reboots a server. A soft reboot needs an ACTIVE server; a hard one is also accepted for
// a stopped one, which it starts (vm_states.ALLOW_HARD_REBOOT; the mock leaves out paused and
// suspended, which it has not, and ERROR). Either keeps the domain and its placement.
func (c *Cloud) Reboot(id, kind string) error {
	allowed, task := []string{vmActive}, taskRebooting
	if kind == RebootHard {
		allowed, task = []string{vmActive, vmStopped}, taskRebootingHard
	}
	return c.transition(id, "reboot", allowed, task, "compute_reboot_instance", func(s *Server) {
		s.Status, s.VMState, s.PowerState = StatusActive, vmActive, PowerRunning
	})
}

// transition checks a server's state as Nova's check_instance_state does (409 otherwise), records
// the action, sets the task state at once and finishes after the cloud's latency.
func (c *Cloud) transition(id, action string, allowed []string, task, event string, finish func(s *Server)) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed {
		return errorf(Internal, "the mock cloud is shutting down")
	}
	s, ok := c.servers[id]
	if !ok {
		return serverNotFound(id)
	}
	if !slices.Contains(allowed, s.VMState) {
		return errorf(Conflict, "Cannot '%s' instance %s while it is in vm_state %s", action, id, s.VMState)
	}
	if s.TaskState != "" {
		return errorf(Conflict, "Cannot '%s' instance %s while it is in task_state %s", action, id, s.TaskState)
	}
	now := time.Now().UTC().Truncate(time.Second)
	a := c.recordAction(s, action, now)
	s.TaskState, s.Updated = task, now
	switch task {
	case taskRebooting:
		s.Status = StatusReboot
	case taskRebootingHard:
		s.Status = StatusHardReboot
	}
	c.wg.Add(1)
	c.timers[id] = time.AfterFunc(c.latency, func() {
		defer c.wg.Done()
		c.mu.Lock()
		defer c.mu.Unlock()
		delete(c.timers, id)
		s, ok := c.servers[id]
		if !ok || c.closed {
			return
		}
		done := time.Now().UTC().Truncate(time.Second)
		finish(s)
		s.TaskState, s.Updated = "", done
		a.finishEvent(event, s.Host, "", now, done)
	})
	return nil
}
