package jobs_test

import (
	"bytes"
	"context"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/hubgw/hubgw/auth"
	"github.com/hubgw/hubgw/cache"
	"github.com/hubgw/hubgw/gateway/fanout"
	"github.com/hubgw/hubgw/gateway/jobs"
	"github.com/hubgw/hubgw/gateway/rpc"
)

func sealer(t *testing.T, b byte) *auth.Sealer {
	t.Helper()
	s, err := auth.NewSealer(bytes.Repeat([]byte{b}, 32))
	require.NoError(t, err)
	return s
}

// With a Sealer, arguments and answers are not in the store in the clear;
// readers with the key see them, readers with another key see that they
// cannot.
func TestArgumentsAndAnswersSealed(t *testing.T) {
	ctx := context.Background()
	st := cache.NewMemory(cache.MemoryOptions{})
	rec := newRecorder(t, st, jobs.Options{Seal: sealer(t, 1)})
	ts := targets(2)
	run, err := rec.Start(ctx, jobs.Spec{Method: "activationkey.addChildChannels", User: "admin", Targets: ts,
		Args: [][]any{{"key-bob", []any{"chan-alice"}}, {"key-carol", []any{"chan-alice"}}}})
	require.NoError(t, err)
	run.End(fanout.Results{{Target: ts[0], Value: "r3sult-a", Attempts: 1}, {Target: ts[1], Fault: &rpc.Fault{Code: 2800, String: "no"}, Attempts: 1}})

	var atRest []byte
	for _, k := range []string{"job:{" + run.ID() + "}", "job:{" + run.ID() + "}:targets"} {
		h, err := st.HGetAll(ctx, k)
		require.NoError(t, err)
		for f, v := range h {
			atRest = append(append(atRest, f...), v...)
		}
	}
	for _, secret := range []string{"key-bob", "key-carol", "chan-alice", "r3sult"} {
		require.NotContains(t, string(atRest), secret, "in the clear at rest")
	}
	require.Contains(t, string(atRest), "peripheral-1", "servers and statuses stay readable")

	j, err := rec.Get(ctx, run.ID())
	require.NoError(t, err)
	require.JSONEq(t, `["key-bob",["chan-alice"]]`, string(j.Args))
	require.JSONEq(t, `"r3sult-a"`, string(j.Targets[0].Value))
	require.JSONEq(t, `["key-carol",["chan-alice"]]`, string(j.Targets[1].Args))
	require.Equal(t, 2800, j.Targets[1].FaultCode)

	other := newRecorder(t, st, jobs.Options{Seal: sealer(t, 2)})
	j, err = other.Get(ctx, run.ID())
	require.NoError(t, err)
	require.Equal(t, jobs.Done, j.Status)
	require.Equal(t, "ok", j.Targets[0].Outcome)
	require.Empty(t, j.Targets[0].Value)
	require.Contains(t, j.Targets[0].ValueOmitted, "another key")
	require.Contains(t, string(j.Args), "unreadable")
}

func TestReadOnlyAnswersDescribed(t *testing.T) {
	ctx := context.Background()
	readOnly := func(m string) bool { return strings.HasPrefix(m, "system.list") }
	tests := []struct {
		name   string
		o      jobs.Options
		method string
		value  any
		result string // recorded, or ""
		note   string // ResultOmitted
	}{
		{"a listing is described", jobs.Options{ReadOnly: readOnly}, "system.listSystems",
			[]any{"a", "b", "c"}, "", "answer of a read-only method, not recorded: array of 3"},
		{"a struct is described", jobs.Options{ReadOnly: readOnly}, "system.listX",
			rpc.Struct{{Name: "a", Value: 1}}, "", "answer of a read-only method, not recorded: struct of 1 members"},
		{"kept when asked", jobs.Options{ReadOnly: readOnly, KeepReadAnswers: true}, "system.listSystems",
			[]any{"a"}, `["a"]`, ""},
		{"a write's answer is recorded", jobs.Options{ReadOnly: readOnly}, "system.scheduleReboot",
			int64(42), `42`, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rec := newRecorder(t, cache.NewMemory(cache.MemoryOptions{}), tt.o)
			ts := targets(1)
			run, err := rec.Start(ctx, jobs.Spec{Method: tt.method, Targets: ts})
			require.NoError(t, err)
			run.End(fanout.Results{{Target: ts[0], Value: tt.value, Attempts: 1}})
			j, err := rec.Get(ctx, run.ID())
			require.NoError(t, err)
			require.Equal(t, "ok", j.Targets[0].Outcome)
			require.Equal(t, tt.note, j.Targets[0].ValueOmitted)
			if tt.result == "" {
				require.Empty(t, j.Targets[0].Value)
			} else {
				require.JSONEq(t, tt.result, string(j.Targets[0].Value))
			}
		})
	}
}
