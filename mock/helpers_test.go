package mock_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"os"
	"testing"
	"time"

	"github.com/gophercloud/gophercloud/v2"
	"github.com/gophercloud/gophercloud/v2/openstack"
	"github.com/gophercloud/gophercloud/v2/openstack/compute/v2/flavors"
	"github.com/gophercloud/gophercloud/v2/openstack/compute/v2/servers"
	gconfig "github.com/gophercloud/gophercloud/v2/openstack/config"
	"github.com/gophercloud/gophercloud/v2/openstack/config/clouds"

	"github.com/hwcert/hwcert/mock"
	"github.com/hwcert/hwcert/mock/lab"
)

const testLab = "testdata/two-hosts.yaml"

// testLab is a running mock with clients authenticated from the clouds.yaml it wrote.
type labClient struct {
	t        testing.TB
	m        *mock.Mock
	provider *gophercloud.ProviderClient
	compute  *gophercloud.ServiceClient // microversion 2.86
	image    *gophercloud.ServiceClient
}

// startLab starts the mock in-process on 127.0.0.1:0 and authenticates through the written
// clouds.yaml, exactly as the harness does.
func startLab(t testing.TB, labFile string, mutate ...func(*mock.Options)) *labClient {
	t.Helper()
	l, err := lab.Load(labFile)
	if err != nil {
		t.Fatalf("loading lab: %v", err)
	}
	// Short state dirs: unix socket paths are limited to 107 bytes.
	dir, err := os.MkdirTemp("", "hwm")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	opts := mock.Options{Lab: l, StateDir: dir}
	for _, f := range mutate {
		f(&opts)
	}
	ctx := context.Background()
	m, err := mock.Start(ctx, opts)
	if err != nil {
		t.Fatalf("mock.Start: %v", err)
	}
	t.Cleanup(func() {
		if err := m.Close(); err != nil {
			t.Errorf("mock.Close: %v", err)
		}
	})
	pc := startLabLogin(t, m)
	_, eo, _, err := clouds.Parse(clouds.WithLocations(m.CloudsFile()), clouds.WithCloudName(mock.CloudName))
	if err != nil {
		t.Fatalf("clouds.Parse(%s): %v", m.CloudsFile(), err)
	}
	compute, err := openstack.NewComputeV2(pc, eo)
	if err != nil {
		t.Fatalf("compute client: %v", err)
	}
	compute.Microversion = "2.86"
	image, err := openstack.NewImageV2(pc, eo)
	if err != nil {
		t.Fatalf("image client: %v", err)
	}
	return &labClient{t: t, m: m, provider: pc, compute: compute, image: image}
}

// startLabLogin authenticates with the clouds.yaml the mock wrote.
func startLabLogin(t testing.TB, m *mock.Mock) *gophercloud.ProviderClient {
	t.Helper()
	ao, _, tlsConfig, err := clouds.Parse(clouds.WithLocations(m.CloudsFile()), clouds.WithCloudName(mock.CloudName))
	if err != nil {
		t.Fatalf("clouds.Parse(%s): %v", m.CloudsFile(), err)
	}
	pc, err := gconfig.NewProviderClient(context.Background(), ao, gconfig.WithTLSConfig(tlsConfig))
	if err != nil {
		t.Fatalf("authenticating with %s: %v", m.CloudsFile(), err)
	}
	return pc
}

// at returns a copy of the compute client speaking another microversion.
func (c *labClient) at(version string) *gophercloud.ServiceClient {
	cc := *c.compute
	cc.Microversion = version
	return &cc
}

func ctxT(t testing.TB) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	t.Cleanup(cancel)
	return ctx
}

// flavor creates a flavor with extra specs (stored at 2.61, so any value is accepted).
func (c *labClient) flavor(name string, vcpus, ramMB int, specs map[string]string) *flavors.Flavor {
	c.t.Helper()
	ctx := ctxT(c.t)
	f, err := flavors.Create(ctx, c.compute, flavors.CreateOpts{Name: name, VCPUs: vcpus, RAM: ramMB, Disk: gophercloud.IntToPointer(1)}).Extract()
	if err != nil {
		c.t.Fatalf("creating flavor %s: %v", name, err)
	}
	if len(specs) > 0 {
		if _, err := flavors.CreateExtraSpecs(ctx, c.at("2.61"), f.ID, flavors.ExtraSpecsOpts(specs)).Extract(); err != nil {
			c.t.Fatalf("setting extra specs of %s: %v", name, err)
		}
	}
	return f
}

// createOpts adds the 2.74 `host` field, which gophercloud's CreateOpts lacks.
type createOpts struct {
	servers.CreateOpts
	Host string
}

func (o createOpts) ToServerCreateMap() (map[string]any, error) {
	m, err := o.CreateOpts.ToServerCreateMap()
	if err != nil || o.Host == "" {
		return m, err
	}
	m["server"].(map[string]any)["host"] = o.Host
	return m, nil
}

// boot creates a server and returns it as the 202 shows it.
func (c *labClient) boot(client *gophercloud.ServiceClient, opts createOpts) (*servers.Server, error) {
	if opts.ImageRef == "" {
		opts.ImageRef = c.m.Cloud().Lab().Images[0].ID
	}
	if opts.Networks == nil {
		opts.Networks = "none"
	}
	return servers.Create(ctxT(c.t), client, opts, nil).Extract()
}

// settle polls the server until it leaves BUILD, with a deadline.
func (c *labClient) settle(id string) *servers.Server {
	c.t.Helper()
	return c.waitServer(id, "leave BUILD", func(s *servers.Server) bool { return s.Status != "BUILD" })
}

// waitServer polls the server until done says so, with a deadline.
func (c *labClient) waitServer(id, what string, done func(*servers.Server) bool) *servers.Server {
	c.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	var last *servers.Server
	err := poll(ctx, 10*time.Millisecond, func(ctx context.Context) (bool, error) {
		s, err := servers.Get(ctx, c.compute, id).Extract()
		if err != nil {
			return false, err
		}
		last = s
		return done(s), nil
	})
	if err != nil {
		c.t.Fatalf("waiting for server %s to %s: %v (last: %+v)", id, what, err, last)
	}
	return last
}

// poll calls predicate every interval until it is done, fails, or ctx ends. It is
// gophercloud.WaitFor with a shorter period: the mock answers in microseconds.
func poll(ctx context.Context, interval time.Duration, predicate func(context.Context) (bool, error)) error {
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		if done, err := predicate(ctx); done || err != nil {
			return err
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-t.C:
		}
	}
}

// httpStatus extracts the status and body of a gophercloud error.
func httpStatus(t *testing.T, err error) (int, string) {
	t.Helper()
	var ue gophercloud.ErrUnexpectedResponseCode
	if !errors.As(err, &ue) {
		t.Fatalf("expected an HTTP error, got %T: %v", err, err)
	}
	return ue.Actual, string(ue.Body)
}

// raw sends a request with the current token (unless token is "-") and returns status,
// headers and body.
func (c *labClient) raw(method, path string, headers map[string]string, body any) (int, http.Header, []byte) {
	c.t.Helper()
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			c.t.Fatal(err)
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctxT(c.t), method, c.m.BaseURL()+path, rd)
	if err != nil {
		c.t.Fatal(err)
	}
	req.Header.Set("X-Auth-Token", c.provider.Token())
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	for k, v := range headers {
		if v == "-" {
			req.Header.Del(k)
			continue
		}
		req.Header.Set(k, v)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		c.t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	if err != nil {
		c.t.Fatal(err)
	}
	return resp.StatusCode, resp.Header, data
}

// novaFault is Nova's error body, {"<name>": {"code": N, "message": "..."}}.
func novaFault(t *testing.T, body string) (name string, code int, message string) {
	t.Helper()
	var m map[string]struct {
		Code    int    `json:"code"`
		Message string `json:"message"`
	}
	if err := json.Unmarshal([]byte(body), &m); err != nil || len(m) != 1 {
		t.Fatalf("not a Nova fault body: %q (%v)", body, err)
	}
	for k, v := range m {
		return k, v.Code, v.Message
	}
	return "", 0, ""
}

func mustJSON(t *testing.T, data []byte) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(data, &m); err != nil {
		t.Fatalf("decoding %q: %v", data, err)
	}
	return m
}

func fileMode(t *testing.T, path string) os.FileMode {
	t.Helper()
	st, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	return st.Mode().Perm()
}

func timeDuration(ns float64) time.Duration { return time.Duration(ns) }
