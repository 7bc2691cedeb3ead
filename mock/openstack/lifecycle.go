package openstack

import (
	"fmt"
	"maps"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/hwcert/hwcert/mock/cloud"
)

// The server lifecycle a certification checks and the read-only operator views around it:
// server actions (os-stop, os-start, reboot), os-instance-actions, os-services, the hypervisor
// uptime, limits and os-simple-tenant-usage.

func (a *API) routeLifecycle(route func(string, computeHandler)) {
	route("POST /servers/{id}/action", a.serverAction)
	route("GET /servers/{id}/os-instance-actions", a.listInstanceActions)
	route("GET /servers/{id}/os-instance-actions/{req}", a.showInstanceAction)
	route("GET /os-services", a.listServices)
	route("GET /os-hypervisors/{id}/uptime", a.hypervisorUptime)
	route("GET /limits", a.limits)
	route("GET /os-simple-tenant-usage", a.listUsage)
	route("GET /os-simple-tenant-usage/{tenant}", a.showUsage)
}

// serverAction is POST /servers/{id}/action with one of os-stop, os-start or reboot; 202 with
// no body, as Nova answers. Other actions are Nova's 400 for an action it does not know here.
func (a *API) serverAction(w http.ResponseWriter, r *http.Request, _ microversion) {
	body, ok := readBody(w, r)
	if !ok {
		return
	}
	id := r.PathValue("id")
	if _, err := a.cloud.Server(id); err != nil {
		cloudError(w, err)
		return
	}
	if len(body) != 1 {
		novaError(w, http.StatusBadRequest, "There is no such action: "+strings.Join(sortedKeys(body), ","))
		return
	}
	var err error
	switch {
	case has(body, "os-stop"):
		err = a.cloud.Stop(id)
	case has(body, "os-start"):
		err = a.cloud.Start(id)
	case has(body, "reboot"):
		kind, msg := rebootType(body["reboot"])
		if msg != "" {
			novaError(w, http.StatusBadRequest, msg)
			return
		}
		err = a.cloud.Reboot(id, kind)
	default:
		novaError(w, http.StatusBadRequest, "There is no such action: "+sortedKeys(body)[0])
		return
	}
	if err != nil {
		cloudError(w, err)
		return
	}
	w.WriteHeader(http.StatusAccepted)
}

func has(m map[string]any, k string) bool { _, ok := m[k]; return ok }

func sortedKeys(m map[string]any) []string { return slices.Sorted(maps.Keys(m)) }

// rebootType reads {"type": "SOFT"|"HARD"} with Nova's schema (reboot.py: enum in three cases).
func rebootType(v any) (string, string) {
	m, ok := v.(map[string]any)
	if !ok {
		return "", schemaError("reboot", v, fmt.Sprintf("%s is not of type 'object'", pyRepr(v)))
	}
	t, present := m["type"]
	if !present {
		return "", schemaError("reboot", m, "'type' is a required property")
	}
	s, _ := t.(string)
	switch s {
	case "SOFT", "Soft", "soft":
		return cloud.RebootSoft, ""
	case "HARD", "Hard", "hard":
		return cloud.RebootHard, ""
	}
	return "", schemaError("reboot/type", t, fmt.Sprintf("%s is not one of ['HARD', 'Soft', 'soft', 'SOFT', 'Hard', 'hard']", pyRepr(t)))
}

// serverActions finds the actions of a server: a live one, or at 2.21+ a deleted one.
func (a *API) serverActions(w http.ResponseWriter, id string, v microversion) ([]cloud.Action, bool) {
	_, err := a.cloud.Server(id)
	actions, known := a.cloud.Actions(id)
	if err != nil && (!known || !v.atLeast(21)) {
		cloudError(w, err)
		return nil, false
	}
	return actions, true
}

// actionView follows nova/api/openstack/compute/instance_actions.py: updated_at from 2.58.
func actionView(act cloud.Action, v microversion) map[string]any {
	out := map[string]any{
		"action": act.Action, "instance_uuid": act.ServerID, "request_id": act.RequestID,
		"user_id": act.UserID, "project_id": act.ProjectID,
		"start_time": act.StartTime.Format(microTime), "message": nullable(act.Message),
	}
	if v.atLeast(58) {
		out["updated_at"] = act.UpdatedAt.Format(microTime)
	}
	return out
}

// microTime is how Nova prints the naive datetimes of instance actions.
const microTime = "2006-01-02T15:04:05.000000"

func (a *API) listInstanceActions(w http.ResponseWriter, r *http.Request, v microversion) {
	actions, ok := a.serverActions(w, r.PathValue("id"), v)
	if !ok {
		return
	}
	out := []any{}
	// Newest first, as Nova lists them.
	for i := len(actions) - 1; i >= 0; i-- {
		out = append(out, actionView(actions[i], v))
	}
	writeJSON(w, http.StatusOK, map[string]any{"instanceActions": out})
}

// showInstanceAction shows one action with its events; an admin sees the traceback (here the
// fault text), and from 2.62 the host and hostId, from 2.84 the details of a failed event.
func (a *API) showInstanceAction(w http.ResponseWriter, r *http.Request, v microversion) {
	id, req := r.PathValue("id"), r.PathValue("req")
	actions, ok := a.serverActions(w, id, v)
	if !ok {
		return
	}
	for _, act := range actions {
		if act.RequestID != req {
			continue
		}
		out := actionView(act, v)
		events := []any{}
		for _, ev := range act.Events {
			e := map[string]any{
				"event": ev.Event, "start_time": ev.StartTime.Format(microTime), "finish_time": ev.FinishTime.Format(microTime),
				"result": ev.Result, "traceback": nil,
			}
			if ev.Details != "" {
				e["traceback"] = "Traceback (most recent call last):\n  ...\n" + ev.Details + "\n"
			}
			if v.atLeast(62) {
				e["host"] = ev.Host
				e["hostId"] = hostID(ev.Host, act.ProjectID)
			}
			if v.atLeast(84) {
				e["details"] = nullable(ev.Details)
			}
			events = append(events, e)
		}
		out["events"] = events
		writeJSON(w, http.StatusOK, map[string]any{"instanceAction": out})
		return
	}
	novaError(w, http.StatusNotFound, fmt.Sprintf("Action %s could not be found.", req))
}

// listServices is GET /os-services: nova-scheduler and nova-conductor on the first host (the
// controller, in zone "internal") and nova-compute on every host; UUID ids from 2.53.
func (a *API) listServices(w http.ResponseWriter, r *http.Request, v microversion) {
	q := r.URL.Query()
	hosts := a.cloud.Lab().Hosts
	type svc struct{ binary, host, zone string }
	var all []svc
	if len(hosts) > 0 {
		all = append(all, svc{"nova-scheduler", hosts[0].Name, "internal"}, svc{"nova-conductor", hosts[0].Name, "internal"})
	}
	for _, h := range hosts {
		all = append(all, svc{"nova-compute", h.Name, h.AvailabilityZone})
	}
	updated := time.Now().UTC().Truncate(time.Second).Format(microTime)
	out := []any{}
	for i, s := range all {
		if (q.Get("host") != "" && q.Get("host") != s.host) || (q.Get("binary") != "" && q.Get("binary") != s.binary) {
			continue
		}
		e := map[string]any{
			"id": i + 1, "binary": s.binary, "host": s.host, "zone": s.zone,
			"status": "enabled", "state": "up", "updated_at": updated, "disabled_reason": nil,
		}
		if v.atLeast(11) {
			e["forced_down"] = false
		}
		if v.atLeast(53) {
			e["id"] = serviceUUID(s.binary + "@" + s.host)
			if s.binary == "nova-compute" {
				e["id"] = serviceUUID(s.host)
			}
		}
		out = append(out, e)
	}
	writeJSON(w, http.StatusOK, map[string]any{"services": out})
}

// uptimeText is what `uptime` prints on the host, which Nova's libvirt driver returns as is:
// "HH:MM:SS up D days, HH:MM,  N users,  load average: x, y, z". Every mock host booted when
// the mock started.
func (a *API) uptimeText(now time.Time) string {
	up := now.Sub(a.cloud.Started())
	days := int(up.Hours()) / 24
	rest := up - time.Duration(days)*24*time.Hour
	dur := fmt.Sprintf("%d:%02d", int(rest.Hours()), int(rest.Minutes())%60)
	if days > 0 {
		dur = fmt.Sprintf("%d days, %s", days, dur)
	}
	return fmt.Sprintf(" %s up %s,  1 user,  load average: 0.08, 0.03, 0.01\n", now.Format("15:04:05"), dur)
}

// hypervisorUptime is GET /os-hypervisors/{id}/uptime, which 2.88 removed (its uptime is in
// the hypervisor itself from then on).
func (a *API) hypervisorUptime(w http.ResponseWriter, r *http.Request, v microversion) {
	if v.atLeast(88) {
		writeText(w, http.StatusNotFound, "404 Not Found\n\nThe resource could not be found.\n\n")
		return
	}
	i, ok := a.hypervisorIndex(w, r.PathValue("id"), v)
	if !ok {
		return
	}
	h := &a.cloud.Lab().Hosts[i]
	out := a.hypervisorView(v, i, h, false, false)
	out["uptime"] = a.uptimeText(time.Now())
	writeJSON(w, http.StatusOK, map[string]any{"hypervisor": out})
}

// limits is GET /limits. The mock enforces no quota, which Nova reports as -1 (unlimited); the
// used totals are those of the project's servers. Fields removed by 2.36 and 2.57 go with them.
func (a *API) limits(w http.ResponseWriter, r *http.Request, v microversion) {
	servers, _ := a.cloud.Servers(cloud.ServerFilter{})
	cores, ram := 0, 0
	for _, s := range servers {
		cores += s.Flavor.VCPUs
		ram += s.Flavor.RAMMB
	}
	abs := map[string]any{
		"maxTotalInstances": -1, "maxTotalCores": -1, "maxTotalRAMSize": -1,
		"maxServerMeta": 128, "maxTotalKeypairs": 100, "maxServerGroups": 10, "maxServerGroupMembers": 10,
		"totalInstancesUsed": len(servers), "totalCoresUsed": cores, "totalRAMUsed": ram,
		"totalServerGroupsUsed": 0,
	}
	if !v.atLeast(36) {
		for k, val := range map[string]any{"maxSecurityGroups": 10, "maxSecurityGroupRules": 20, "maxTotalFloatingIps": 10,
			"totalSecurityGroupsUsed": 1, "totalFloatingIpsUsed": 0} {
			abs[k] = val
		}
	}
	if !v.atLeast(39) {
		abs["maxImageMeta"] = 128
	}
	if !v.atLeast(57) {
		abs["maxPersonality"], abs["maxPersonalitySize"] = 5, 10240
	}
	writeJSON(w, http.StatusOK, map[string]any{"limits": map[string]any{"rate": []any{}, "absolute": abs}})
}

// usageWindow reads start and end (ISO 8601, naive or with a zone) as Nova's parse_strtime does.
func usageWindow(r *http.Request) (start, end time.Time, msg string) {
	parse := func(key string, def time.Time) (time.Time, string) {
		s := r.URL.Query().Get(key)
		if s == "" {
			return def, ""
		}
		for _, layout := range []string{"2006-01-02T15:04:05.999999", "2006-01-02T15:04:05.999999Z07:00", "2006-01-02 15:04:05.999999"} {
			if t, err := time.Parse(layout, s); err == nil {
				return t.UTC(), ""
			}
		}
		return time.Time{}, "Datetime is in invalid format"
	}
	now := time.Now().UTC()
	if start, msg = parse("start", now.Add(-24*time.Hour)); msg != "" {
		return
	}
	if end, msg = parse("end", now); msg != "" {
		return
	}
	if start.After(end) {
		msg = "Invalid start time. The start time cannot occur after the end time."
	}
	return
}

// tenantUsage sums the servers of one project over the window, as simple_tenant_usage.py does:
// hours of each server inside the window, times its vCPUs, memory and disk.
func (a *API) tenantUsage(tenant string, start, end time.Time, detailed bool, marker string) (map[string]any, bool) {
	servers, _ := a.cloud.Servers(cloud.ServerFilter{})
	slices.Reverse(servers) // oldest first, as Nova pages them
	if marker != "" {
		i := slices.IndexFunc(servers, func(s cloud.Server) bool { return s.ID == marker })
		servers = servers[i+1:] // -1 (unknown marker) keeps them all
	}
	var totalHours, vcpuH, memH, diskH float64
	usages := []any{}
	for _, s := range servers {
		if s.TenantID != tenant {
			continue
		}
		// Nova counts from the launch (or the creation) to the end of the window.
		from, to := s.Created, end
		if !s.LaunchedAt.IsZero() {
			from = s.LaunchedAt
		}
		if from.Before(start) {
			from = start
		}
		if to.Before(from) {
			continue
		}
		hours := to.Sub(from).Hours()
		disk := s.Flavor.DiskGB + s.Flavor.EphemeralGB
		totalHours += hours
		vcpuH += hours * float64(s.Flavor.VCPUs)
		memH += hours * float64(s.Flavor.RAMMB)
		diskH += hours * float64(disk)
		state := s.VMState
		if detailed {
			usages = append(usages, map[string]any{
				"instance_id": s.ID, "name": s.Name, "hours": hours, "memory_mb": s.Flavor.RAMMB,
				"local_gb": disk, "vcpus": s.Flavor.VCPUs, "tenant_id": s.TenantID, "flavor": s.Flavor.Name,
				"started_at": s.Created.Format(microTime), "ended_at": nil, "state": state, "uptime": int(hours * 3600),
			})
		}
	}
	if totalHours == 0 && len(usages) == 0 {
		return nil, false
	}
	out := map[string]any{
		"tenant_id": tenant, "total_hours": totalHours, "total_vcpus_usage": vcpuH,
		"total_memory_mb_usage": memH, "total_local_gb_usage": diskH,
		"start": start.Format(microTime), "stop": end.Format(microTime),
	}
	if detailed {
		out["server_usages"] = usages
	}
	return out, true
}

func (a *API) listUsage(w http.ResponseWriter, r *http.Request, v microversion) {
	start, end, msg := usageWindow(r)
	if msg != "" {
		novaError(w, http.StatusBadRequest, msg)
		return
	}
	detailed := r.URL.Query().Get("detailed") == "1"
	out := []any{}
	if u, ok := a.tenantUsage(a.creds.ProjectID, start, end, detailed, markerOf(r, v)); ok {
		out = append(out, u)
	}
	writeJSON(w, http.StatusOK, map[string]any{"tenant_usages": out})
}

func (a *API) showUsage(w http.ResponseWriter, r *http.Request, v microversion) {
	start, end, msg := usageWindow(r)
	if msg != "" {
		novaError(w, http.StatusBadRequest, msg)
		return
	}
	u, ok := a.tenantUsage(r.PathValue("tenant"), start, end, true, markerOf(r, v))
	if !ok {
		u = map[string]any{}
	}
	writeJSON(w, http.StatusOK, map[string]any{"tenant_usage": u})
}

// markerOf is the paging marker, a server id, which Nova honours from 2.40.
func markerOf(r *http.Request, v microversion) string {
	if !v.atLeast(40) {
		return ""
	}
	return r.URL.Query().Get("marker")
}
