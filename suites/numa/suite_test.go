package numa

import (
	"testing"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/hwcert/hwcert/framework"
)

func TestNUMA(t *testing.T) {
	RegisterFailHandler(Fail)
	framework.RegisterSuite()
	RunSpecs(t, "numa")
}
