package fleetids_test

import (
	"testing"

	"github.com/hubgw/hubgw/cache/redistest"
)

// TestMain silences go-redis's logger (tests stop Redis on purpose).
func TestMain(m *testing.M) { redistest.Main(m) }
