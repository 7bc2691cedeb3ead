package passthrough

import (
	"testing"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/hwcert/hwcert/framework"
)

func TestPassthrough(t *testing.T) {
	RegisterFailHandler(Fail)
	framework.RegisterSuite()
	RunSpecs(t, "passthrough")
}
