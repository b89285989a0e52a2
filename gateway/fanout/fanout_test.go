package fanout_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	"github.com/hubgw/hubgw/gateway/fanout"
	"github.com/hubgw/hubgw/gateway/rpc"
	"github.com/hubgw/hubgw/gateway/target"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

func calls(n int, readOnly bool) []fanout.Call {
	cs := make([]fanout.Call, n)
	for i := range cs {
		cs[i] = fanout.Call{Target: target.Target{ID: int64(i + 1), Name: fmt.Sprintf("p%d", i+1)}, Method: "system.listSystems", ReadOnly: readOnly}
	}
	return cs
}

// server is a fake Invoker whose behaviour depends on the target.
type server struct {
	mu    sync.Mutex
	calls map[int64]int
	do    func(ctx context.Context, c fanout.Call, n int) fanout.Result
}

func (s *server) invoke(ctx context.Context, c fanout.Call) fanout.Result {
	s.mu.Lock()
	if s.calls == nil {
		s.calls = map[int64]int{}
	}
	s.calls[c.Target.ID]++
	n := s.calls[c.Target.ID]
	s.mu.Unlock()
	r := s.do(ctx, c, n)
	r.Attempts = 1
	return r
}

func (s *server) count(id int64) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.calls[id]
}

func TestRunKeepsOrderAndOneResultPerTarget(t *testing.T) {
	srv := &server{do: func(ctx context.Context, c fanout.Call, _ int) fanout.Result {
		switch c.Target.ID {
		case 2:
			return fanout.Result{Fault: &rpc.Fault{Code: 2950, String: "bad login"}}
		case 3:
			<-ctx.Done() // hangs until its deadline
			return fanout.Result{Err: ctx.Err()}
		}
		// Later targets answer sooner, so completion order differs from call order.
		time.Sleep(time.Duration(10-c.Target.ID) * time.Millisecond)
		return fanout.Result{Value: c.Target.ID}
	}}
	inv := fanout.Stack(srv.invoke, fanout.Timed(), fanout.Timeout(50*time.Millisecond))
	rs := fanout.Run(context.Background(), inv, calls(6, true))
	require.Len(t, rs, 6)
	require.False(t, rs.IsComplete())
	for i, r := range rs {
		require.Equal(t, int64(i+1), r.Target.ID, "result %d out of order", i)
		switch r.Target.ID {
		case 2:
			require.Equal(t, "fault", fanout.Kind(r))
			require.Equal(t, 2950, r.Fault.Code)
		case 3:
			require.Equal(t, "timeout", fanout.Kind(r))
			require.ErrorIs(t, r.Err, fanout.ErrTimeout)
			require.GreaterOrEqual(t, r.Duration, 50*time.Millisecond)
		default:
			require.True(t, r.OK())
			require.Equal(t, r.Target.ID, r.Value)
		}
	}
}

func TestTimeoutNamesCallerGoingAway(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	started := make(chan struct{})
	inv := fanout.Stack(func(ctx context.Context, c fanout.Call) fanout.Result {
		close(started)
		<-ctx.Done()
		return fanout.Result{Err: ctx.Err()}
	}, fanout.Timeout(time.Minute))
	done := make(chan fanout.Result)
	go func() { done <- fanout.Run(ctx, inv, calls(1, false))[0] }()
	<-started
	cancel()
	r := <-done
	require.Equal(t, "canceled", fanout.Kind(r))
}

func TestLimiterCapsGlobalAndPerTarget(t *testing.T) {
	for _, tc := range []struct {
		name              string
		global, perTarget int
		targets, perEach  int
		wantMax           int64
	}{
		{"global cap", 3, 0, 10, 1, 3},
		{"per target cap", 0, 2, 1, 8, 2},
		{"both", 4, 1, 8, 2, 4},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var inFlight, peak atomic.Int64
			var perTarget sync.Map
			inv := fanout.Stack(func(ctx context.Context, c fanout.Call) fanout.Result {
				n := inFlight.Add(1)
				for {
					p := peak.Load()
					if n <= p || peak.CompareAndSwap(p, n) {
						break
					}
				}
				v, _ := perTarget.LoadOrStore(c.Target.ID, new(atomic.Int64))
				if got := v.(*atomic.Int64).Add(1); tc.perTarget > 0 && got > int64(tc.perTarget) {
					t.Errorf("target %d has %d calls in flight", c.Target.ID, got)
				}
				time.Sleep(2 * time.Millisecond)
				v.(*atomic.Int64).Add(-1)
				inFlight.Add(-1)
				return fanout.Result{Value: 1}
			}, fanout.NewLimiter(tc.global, tc.perTarget).Middleware())
			var cs []fanout.Call
			for range tc.perEach {
				cs = append(cs, calls(tc.targets, true)...)
			}
			rs := fanout.Run(context.Background(), inv, cs)
			require.True(t, rs.IsComplete())
			require.LessOrEqual(t, peak.Load(), tc.wantMax)
		})
	}
}

func TestLimiterWaitHonoursDeadline(t *testing.T) {
	// The first call to reach the server holds the only slot until another
	// call has returned; the only way the other can return is by giving up
	// waiting for the slot at its deadline.
	var answered atomic.Int32
	returned := make(chan struct{})
	var once sync.Once
	signal := func(next fanout.Invoker) fanout.Invoker {
		return func(ctx context.Context, c fanout.Call) fanout.Result {
			r := next(ctx, c)
			once.Do(func() { close(returned) })
			return r
		}
	}
	inv := fanout.Stack(func(ctx context.Context, c fanout.Call) fanout.Result {
		answered.Add(1)
		<-returned
		return fanout.Result{Value: 1}
	}, signal, fanout.Timeout(30*time.Millisecond), fanout.NewLimiter(1, 0).Middleware())
	rs := fanout.Run(context.Background(), inv, calls(2, true))
	kinds := []string{fanout.Kind(rs[0]), fanout.Kind(rs[1])}
	require.ElementsMatch(t, []string{"ok", "timeout"}, kinds)
	require.Equal(t, int32(1), answered.Load(), "the waiting call timed out in the limiter, never reaching the server")
}

func TestRetryOnlyReadOnlyTransportFailures(t *testing.T) {
	transport := errors.New("connection refused")
	for _, tc := range []struct {
		name         string
		readOnly     bool
		result       fanout.Result
		wantAttempts int
	}{
		{"read-only transport failure is retried", true, fanout.Result{Err: transport}, 3},
		{"write is never retried", false, fanout.Result{Err: transport}, 1},
		{"fault is an answer", true, fanout.Result{Fault: &rpc.Fault{Code: -1}}, 1},
		{"breaker refusal is not retried", true, fanout.Result{Err: fanout.ErrCircuitOpen}, 1},
		{"success", true, fanout.Result{Value: 1}, 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srv := &server{do: func(context.Context, fanout.Call, int) fanout.Result { return tc.result }}
			inv := fanout.Stack(srv.invoke, fanout.Retry(fanout.RetryPolicy{Attempts: 3, Base: time.Millisecond}))
			r := fanout.Run(context.Background(), inv, calls(1, tc.readOnly))[0]
			require.Equal(t, tc.wantAttempts, r.Attempts)
			require.Equal(t, tc.wantAttempts, srv.count(1))
		})
	}
}

func TestRetrySucceedsAfterTransientFailure(t *testing.T) {
	srv := &server{do: func(_ context.Context, _ fanout.Call, n int) fanout.Result {
		if n < 2 {
			return fanout.Result{Err: errors.New("connection reset")}
		}
		return fanout.Result{Value: "ok"}
	}}
	inv := fanout.Stack(srv.invoke, fanout.Retry(fanout.RetryPolicy{Attempts: 3, Base: time.Millisecond}))
	r := fanout.Run(context.Background(), inv, calls(1, true))[0]
	require.True(t, r.OK())
	require.Equal(t, 2, r.Attempts)
}

func TestBreakerCountsTransportFailuresNotFaults(t *testing.T) {
	var changes []string
	var mu sync.Mutex
	b := fanout.NewBreakers(fanout.BreakerSettings{Failures: 3, Cooldown: time.Hour, OnChange: func(k, from, to string) {
		mu.Lock()
		defer mu.Unlock()
		changes = append(changes, k+":"+from+"->"+to) // k: the server's name
	}})
	srv := &server{do: func(_ context.Context, c fanout.Call, _ int) fanout.Result {
		if c.Target.ID == 1 {
			return fanout.Result{Err: errors.New("connection refused")}
		}
		return fanout.Result{Fault: &rpc.Fault{Code: 2950}}
	}}
	inv := fanout.Stack(srv.invoke, b.Middleware())
	for range 5 {
		fanout.Run(context.Background(), inv, calls(2, false))
	}
	require.Equal(t, 3, srv.count(1), "after 3 transport failures the circuit opens and calls stop")
	require.Equal(t, 5, srv.count(2), "faults never open the circuit")
	require.Equal(t, "open", b.State("1"))
	require.Equal(t, "closed", b.State("2"))
	r := fanout.Run(context.Background(), inv, calls(1, false))[0]
	require.ErrorIs(t, r.Err, fanout.ErrCircuitOpen)
	require.Equal(t, "circuit_open", fanout.Kind(r))
	mu.Lock()
	require.Equal(t, []string{"p1:closed->open"}, changes, "named as logs name servers")
	mu.Unlock()
}

func TestStackOrder(t *testing.T) {
	var order []string
	mw := func(name string) fanout.Middleware {
		return func(next fanout.Invoker) fanout.Invoker {
			return func(ctx context.Context, c fanout.Call) fanout.Result {
				order = append(order, name)
				return next(ctx, c)
			}
		}
	}
	inv := fanout.Stack(func(context.Context, fanout.Call) fanout.Result {
		order = append(order, "base")
		return fanout.Result{}
	}, mw("a"), mw("b"))
	inv(context.Background(), fanout.Call{})
	require.Equal(t, []string{"a", "b", "base"}, order)
}
