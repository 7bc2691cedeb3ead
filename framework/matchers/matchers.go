// Package matchers holds the Gomega matchers specs use to state what they expect of a server:
// that its placement satisfies the flavor's request (with the verdict's reasons and a device/NUMA
// table in the failure message), and that it carries a given Nova fault.
package matchers

import (
	"fmt"
	"strings"

	"github.com/gophercloud/gophercloud/v2/openstack/compute/v2/servers"
	"github.com/onsi/gomega/types"

	"github.com/hwcert/hwcert/framework/placement"
	"github.com/hwcert/hwcert/framework/verify"
)

// SatisfyRequest succeeds when the actual *placement.Placement passes verify.Check for req.
//
//	Expect(p).To(matchers.SatisfyRequest(req))
func SatisfyRequest(req verify.Request) types.GomegaMatcher {
	return &satisfyRequest{req: req}
}

type satisfyRequest struct {
	req     verify.Request
	verdict verify.Verdict
	p       *placement.Placement
}

func (m *satisfyRequest) Match(actual any) (bool, error) {
	switch p := actual.(type) {
	case *placement.Placement:
		if p == nil {
			return false, fmt.Errorf("SatisfyRequest: actual is a nil *placement.Placement (was the domain inspected?)")
		}
		m.p = p
	case placement.Placement:
		m.p = &p
	default:
		return false, fmt.Errorf("SatisfyRequest: actual is %T, expected a *placement.Placement", actual)
	}
	m.verdict = verify.Check(m.req, m.p)
	return m.verdict.OK, nil
}

func (m *satisfyRequest) FailureMessage(any) string {
	return "Expected the placement to satisfy the request\n" + indent(m.verdict.String()) + "\n" + indent(verify.Table(m.p))
}

func (m *satisfyRequest) NegatedFailureMessage(any) string {
	return "Expected the placement not to satisfy the request, but it does\n" + indent(m.verdict.String()) + "\n" + indent(verify.Table(m.p))
}

// Fault is a Nova server fault (the "fault" of a server in ERROR).
type Fault struct {
	Code    int
	Message string
}

// HaveFault succeeds when the actual fault has the code (0 matches any code) and its message
// contains messageSubstring. Actual may be a Fault, a gophercloud servers.Fault or
// servers.Server (its Fault), or pointers to them.
//
//	Expect(srv).To(matchers.HaveFault(500, "No valid host was found"))
func HaveFault(code int, messageSubstring string) types.GomegaMatcher {
	return &haveFault{code: code, substr: messageSubstring}
}

type haveFault struct {
	code   int
	substr string
	got    Fault
}

func toFault(actual any) (Fault, error) {
	switch f := actual.(type) {
	case Fault:
		return f, nil
	case *Fault:
		if f != nil {
			return *f, nil
		}
	case servers.Fault:
		return Fault{Code: f.Code, Message: f.Message}, nil
	case *servers.Fault:
		if f != nil {
			return Fault{Code: f.Code, Message: f.Message}, nil
		}
	case servers.Server:
		return Fault{Code: f.Fault.Code, Message: f.Fault.Message}, nil
	case *servers.Server:
		if f != nil {
			return Fault{Code: f.Fault.Code, Message: f.Fault.Message}, nil
		}
	default:
		return Fault{}, fmt.Errorf("HaveFault: actual is %T, expected a matchers.Fault, servers.Fault or servers.Server", actual)
	}
	return Fault{}, fmt.Errorf("HaveFault: actual is a nil %T", actual)
}

func (m *haveFault) Match(actual any) (bool, error) {
	f, err := toFault(actual)
	if err != nil {
		return false, err
	}
	m.got = f
	return (m.code == 0 || f.Code == m.code) && strings.Contains(f.Message, m.substr), nil
}

func (m *haveFault) want() string {
	code := "any code"
	if m.code != 0 {
		code = fmt.Sprintf("code %d", m.code)
	}
	return fmt.Sprintf("a fault with %s and a message containing %q", code, m.substr)
}

func (m *haveFault) found() string {
	if m.got == (Fault{}) {
		return "no fault (code 0, empty message)"
	}
	return fmt.Sprintf("code %d, message %q", m.got.Code, m.got.Message)
}

func (m *haveFault) FailureMessage(any) string {
	return fmt.Sprintf("Expected %s\nfound %s", m.want(), m.found())
}

func (m *haveFault) NegatedFailureMessage(any) string {
	return fmt.Sprintf("Expected no %s\nfound %s", strings.TrimPrefix(m.want(), "a "), m.found())
}

func indent(s string) string {
	s = strings.TrimRight(s, "\n")
	return "    " + strings.ReplaceAll(s, "\n", "\n    ")
}
