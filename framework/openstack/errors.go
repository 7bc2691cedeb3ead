package openstack

import (
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/gophercloud/gophercloud/v2"
	"github.com/gophercloud/gophercloud/v2/openstack/compute/v2/servers"
)

// APIError is an HTTP error answer of an OpenStack API, with the message the service put in the
// body (Nova: {"badRequest": {"code": 400, "message": "PCI alias x is not defined"}}).
type APIError struct {
	Method  string
	URL     string
	Status  int
	Message string // the service's message, or the raw body when it has none
}

func (e *APIError) Error() string {
	return fmt.Sprintf("%s %s: HTTP %d: %s", e.Method, e.URL, e.Status, e.Message)
}

// AsAPIError finds the APIError in err's chain.
func AsAPIError(err error) (*APIError, bool) {
	var ae *APIError
	if errors.As(err, &ae) {
		return ae, true
	}
	return nil, false
}

// apiError turns gophercloud's unexpected-status error into an *APIError carrying the service's
// message; other errors are returned unchanged. what says what was being done.
func apiError(err error, what string, args ...any) error {
	if err == nil {
		return nil
	}
	ctx := fmt.Sprintf(what, args...)
	var ue gophercloud.ErrUnexpectedResponseCode
	if errors.As(err, &ue) {
		return fmt.Errorf("%s: %w", ctx, &APIError{Method: ue.Method, URL: ue.URL, Status: ue.Actual, Message: bodyMessage(ue.Body)})
	}
	return fmt.Errorf("%s: %w", ctx, err)
}

// bodyMessage extracts the message of an OpenStack error body. Nova wraps it in one key named for
// the error ({"badRequest": {...}}, {"itemNotFound": {...}}); Keystone uses {"error": {...}};
// some services answer {"message": ...} or plain text.
func bodyMessage(body []byte) string {
	var wrapped map[string]json.RawMessage
	if json.Unmarshal(body, &wrapped) == nil {
		var inner struct {
			Message string `json:"message"`
		}
		for _, v := range wrapped {
			if json.Unmarshal(v, &inner) == nil && inner.Message != "" {
				return inner.Message
			}
		}
		if m, ok := wrapped["message"]; ok {
			var s string
			if json.Unmarshal(m, &s) == nil && s != "" {
				return s
			}
		}
	}
	s := strings.TrimSpace(string(body))
	if len(s) > 512 {
		s = s[:512] + "…"
	}
	if s == "" {
		return "(empty body)"
	}
	return s
}

// BootError is a server that went to ERROR instead of ACTIVE; Fault is what Nova says went wrong
// (for no valid host: code 500, "No valid host was found. There are not enough hosts available.").
type BootError struct {
	ServerID string
	Name     string
	Fault    servers.Fault
}

func (e *BootError) Error() string {
	return fmt.Sprintf("server %s (%s) went to ERROR: fault %d: %s", e.Name, e.ServerID, e.Fault.Code, e.Fault.Message)
}

// AsBootError finds the BootError in err's chain.
func AsBootError(err error) (*BootError, bool) {
	var be *BootError
	if errors.As(err, &be) {
		return be, true
	}
	return nil, false
}

// TimeoutError is a wait that reached its deadline; it says what it saw last.
type TimeoutError struct {
	What          string // "server x to become ACTIVE", "server x to be deleted"
	Waited        time.Duration
	LastStatus    string
	LastTaskState string
	LastErr       error // the last polling error, if the last poll failed
}

func (e *TimeoutError) Error() string {
	s := fmt.Sprintf("timed out after %s waiting for %s: last status %q, task state %q", e.Waited.Round(time.Millisecond), e.What, e.LastStatus, e.LastTaskState)
	if e.LastErr != nil {
		s += fmt.Sprintf(", last poll error: %v", e.LastErr)
	}
	return s
}

// Unwrap lets errors.Is(err, context.DeadlineExceeded) see why the wait ended.
func (e *TimeoutError) Unwrap() error { return e.LastErr }
