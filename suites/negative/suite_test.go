package negative

import (
	"testing"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/hwcert/hwcert/framework/suite"
)

func TestNegative(t *testing.T) {
	RegisterFailHandler(Fail)
	suite.Register()
	RunSpecs(t, "negative")
}
