package desired_test

import (
	"testing"

	"go.uber.org/goleak"
)

// TestMain checks that plans and applies leave no goroutine behind (servers run in parallel).
func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }
