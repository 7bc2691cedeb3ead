package openstack

import (
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/hwcert/hwcert/mock/chaos"
)

// The statuses an api-5xx fault answers with: Nova's own 500, a proxy's 502, Nova's 503.
var chaosStatuses = []int{http.StatusInternalServerError, http.StatusBadGateway, http.StatusServiceUnavailable}

// injectFault applies the HTTP faults of the chaos set to one request, the way a misbehaving
// lab fails: the connection closed (before or after the request had its effect), an answer
// delayed, a 5xx in the service's own error format, a server delete refused with 409. It
// reports whether it answered (or dropped) the request, in which case the caller serves nothing.
func (a *API) injectFault(w http.ResponseWriter, r *http.Request, serve http.HandlerFunc) bool {
	c := a.chaos
	if c == nil {
		return false
	}
	if c.Fire(chaos.APIReset) {
		// Half the resets come after the request had its effect: the client cannot tell, which
		// is why a create is confirmed by name before it is retried.
		if c.Pick(2) == 1 {
			serve(discardWriter{h: http.Header{}}, r)
		}
		a.log.Debug("chaos: connection reset", "method", r.Method, "path", r.URL.Path)
		resetConnection(w)
		return true
	}
	if c.Fire(chaos.APISlow) {
		t := time.NewTimer(c.Duration(chaos.APISlow))
		select {
		case <-t.C:
		case <-r.Context().Done():
			t.Stop()
			return true
		}
	}
	if c.Fire(chaos.API5xx) {
		code := chaosStatuses[c.Pick(len(chaosStatuses))]
		a.log.Debug("chaos: 5xx", "method", r.Method, "path", r.URL.Path, "status", code)
		serviceFault(w, r, code)
		return true
	}
	if id, ok := serverDelete(r); ok && c.Has(chaos.Delete409) {
		if _, err := a.cloud.Server(id); err == nil && c.Fire(chaos.Delete409) {
			// nova/exception.py InstanceInvalidState, as compute/api.py raises it for a task
			// that holds the instance.
			novaError(w, http.StatusConflict, fmt.Sprintf("Cannot 'delete' instance %s while it is in task_state powering-off", id))
			return true
		}
	}
	return false
}

// serverDelete returns the server id of DELETE /compute/v2.1/servers/{id}.
func serverDelete(r *http.Request) (string, bool) {
	if r.Method != http.MethodDelete {
		return "", false
	}
	id, ok := strings.CutPrefix(r.URL.Path, v21+"/servers/")
	return id, ok && id != "" && !strings.Contains(id, "/")
}

// serviceFault answers a 5xx as the service behind the path would: Keystone's and Neutron's
// error bodies, Nova's fault body (an unexpected error, or 503), a proxy's page for a 502.
func serviceFault(w http.ResponseWriter, r *http.Request, code int) {
	if code == http.StatusBadGateway {
		w.Header().Set("Content-Type", "text/html")
		w.WriteHeader(code)
		_, _ = w.Write([]byte("<html><body><h1>502 Bad Gateway</h1>The server returned an invalid or incomplete response.</body></html>\n"))
		return
	}
	text := http.StatusText(code)
	switch {
	case strings.HasPrefix(r.URL.Path, IdentityPrefix):
		keystoneError(w, code, text, "An unexpected error prevented the server from fulfilling your request.")
	case strings.HasPrefix(r.URL.Path, NetworkPrefix):
		neutronError(w, code, "HTTP"+strings.ReplaceAll(text, " ", ""), "Request Failed: internal server error while processing your request.")
	case code == http.StatusServiceUnavailable:
		novaError(w, code, "There was a temporary failure in the service. Please try again later.")
	default:
		novaError(w, code, unexpectedError("oslo_db.exception.DBConnectionError"))
	}
}

// resetConnection closes the client's connection without an answer.
func resetConnection(w http.ResponseWriter) {
	if hj, ok := w.(http.Hijacker); ok {
		if conn, _, err := hj.Hijack(); err == nil {
			_ = conn.Close()
			return
		}
	}
	// Without a connection to take over (HTTP/2, a test recorder), abort the handler: the
	// server closes the stream without a response.
	panic(http.ErrAbortHandler)
}
