package lifecycle

import (
	"testing"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/hwcert/hwcert/framework/suite"
)

func TestLifecycle(t *testing.T) {
	RegisterFailHandler(Fail)
	suite.Register()
	RunSpecs(t, "lifecycle")
}
