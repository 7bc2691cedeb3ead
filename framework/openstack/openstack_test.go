package openstack

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gophercloud/gophercloud/v2"
)

func TestBodyMessage(t *testing.T) {
	tests := []struct{ body, want string }{
		{`{"badRequest": {"code": 400, "message": "PCI alias gpu is not defined"}}`, "PCI alias gpu is not defined"},
		{`{"itemNotFound": {"code": 404, "message": "Flavor x could not be found."}}`, "Flavor x could not be found."},
		{`{"error": {"code": 401, "message": "The request you have made requires authentication.", "title": "Unauthorized"}}`, "The request you have made requires authentication."},
		{`{"message": "plain"}`, "plain"},
		{`Internal Server Error`, "Internal Server Error"},
		{``, "(empty body)"},
	}
	for _, tt := range tests {
		if got := bodyMessage([]byte(tt.body)); got != tt.want {
			t.Errorf("bodyMessage(%q) = %q, want %q", tt.body, got, tt.want)
		}
	}
}

// fakeNova answers GET/DELETE /servers/ID with the statuses given, one per request, then the last.
func fakeNova(t *testing.T, statuses ...string) (*Client, *atomic.Int32) {
	t.Helper()
	var n atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		i := int(n.Add(1)) - 1
		st := statuses[min(i, len(statuses)-1)]
		w.Header().Set("Content-Type", "application/json")
		switch {
		case st == "GONE":
			w.WriteHeader(http.StatusNotFound)
			fmt.Fprint(w, `{"itemNotFound": {"code": 404, "message": "Instance s1 could not be found."}}`)
		case r.Method == http.MethodDelete:
			w.WriteHeader(http.StatusNoContent)
		case st == "ERROR":
			fmt.Fprint(w, `{"server": {"id": "s1", "name": "vm", "status": "ERROR", "fault": {"code": 500, "message": "No valid host was found. There are not enough hosts available."}}}`)
		default:
			fmt.Fprintf(w, `{"server": {"id": "s1", "name": "vm", "status": %q, "OS-EXT-STS:task_state": "scheduling"}}`, st)
		}
	}))
	t.Cleanup(srv.Close)
	c := &Client{
		compute:       &gophercloud.ServiceClient{ProviderClient: &gophercloud.ProviderClient{}, Endpoint: srv.URL + "/"},
		poll:          5 * time.Millisecond,
		bootTimeout:   200 * time.Millisecond,
		deleteTimeout: 200 * time.Millisecond,
	}
	return c, &n
}

func TestWaitForBoot(t *testing.T) {
	ctx := context.Background()

	c, _ := fakeNova(t, "BUILD", "BUILD", "ACTIVE")
	srv, err := c.WaitForBoot(ctx, "s1")
	if err != nil || srv.Status != "ACTIVE" {
		t.Errorf("ACTIVE: %v, %v", srv, err)
	}

	c, _ = fakeNova(t, "BUILD", "ERROR")
	_, err = c.WaitForBoot(ctx, "s1")
	be, ok := AsBootError(err)
	if !ok || be.Fault.Code != 500 || !strings.HasPrefix(be.Fault.Message, "No valid host was found.") {
		t.Errorf("ERROR: err = %v", err)
	}

	c, _ = fakeNova(t, "BUILD")
	_, err = c.WaitForBoot(ctx, "s1")
	var te *TimeoutError
	if !errors.As(err, &te) || te.LastStatus != "BUILD" || te.LastTaskState != "scheduling" || !strings.Contains(err.Error(), `last status "BUILD"`) {
		t.Errorf("timeout: err = %v", err)
	}

	c, _ = fakeNova(t, "GONE")
	if _, err = c.WaitForBoot(ctx, "s1"); err == nil || !strings.Contains(err.Error(), "disappeared") {
		t.Errorf("gone while booting: err = %v", err)
	}
}

func TestDeleteServerWaitsUntilGone(t *testing.T) {
	c, n := fakeNova(t, "DELETE", "ACTIVE", "ACTIVE", "GONE")
	if err := c.DeleteServer(context.Background(), "s1"); err != nil {
		t.Fatal(err)
	}
	if got := n.Load(); got != 4 {
		t.Errorf("requests = %d, want delete + 3 polls", got)
	}
	c, _ = fakeNova(t, "GONE")
	if err := c.DeleteServer(context.Background(), "s1"); err != nil {
		t.Errorf("deleting a server already gone: %v", err)
	}
	c, _ = fakeNova(t, "DELETE", "ACTIVE")
	err := c.DeleteServer(context.Background(), "s1")
	var te *TimeoutError
	if !errors.As(err, &te) || te.LastStatus != "ACTIVE" {
		t.Errorf("never gone: err = %v", err)
	}
}

func TestAPIErrorCarriesNovaMessage(t *testing.T) {
	var body string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		body = string(b)
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusBadRequest)
		fmt.Fprint(w, `{"badRequest": {"code": 400, "message": "PCI alias hwcert-x is not defined"}}`)
	}))
	defer srv.Close()
	c := &Client{compute: &gophercloud.ServiceClient{ProviderClient: &gophercloud.ProviderClient{}, Endpoint: srv.URL + "/"}}
	_, err := c.CreateServer(context.Background(), ServerSpec{Name: "vm", FlavorID: "f", ImageID: "i", Host: "worker-0"})
	ae, ok := AsAPIError(err)
	if !ok || ae.Status != 400 || ae.Message != "PCI alias hwcert-x is not defined" || !strings.Contains(err.Error(), "on host worker-0") {
		t.Errorf("err = %v", err)
	}
	if !strings.Contains(body, `"host":"worker-0"`) || !strings.Contains(body, `"networks":"none"`) {
		t.Errorf("request body %s lacks the 2.74 host or networks none", body)
	}
}
