package novaspec

import (
	"math/big"
	"sort"
)

func bigInt(v int64) *big.Int { return big.NewInt(v) }

func sortStrings(s []string) { sort.Strings(s) }
