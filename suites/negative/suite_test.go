package negative

import (
	"testing"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/hwcert/hwcert/framework"
)

func TestNegative(t *testing.T) {
	RegisterFailHandler(Fail)
	framework.RegisterSuite()
	RunSpecs(t, "negative")
}
