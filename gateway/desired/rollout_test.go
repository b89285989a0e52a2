package desired_test

import (
	"context"
	"errors"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/hubgw/hubgw/auth"
	"github.com/hubgw/hubgw/gateway"
	"github.com/hubgw/hubgw/gateway/desired"
	"github.com/hubgw/hubgw/gateway/fanout"
	"github.com/hubgw/hubgw/gateway/rollout"
	"github.com/hubgw/hubgw/gateway/rpc"
	"github.com/hubgw/hubgw/gateway/target"
)

func TestRingOrder(t *testing.T) {
	for _, tc := range []struct {
		rings map[string][]string
		want  []string
		err   string
	}{
		{nil, []string{}, ""},
		{map[string][]string{"rest": {"*"}, "early": {"a"}, "canary": {"b"}, "batch": {"c"}}, []string{"canary", "batch", "early", "rest"}, ""},
		{map[string][]string{"a": {"*"}, "b": {"*"}}, nil, `"*"`},
		{map[string][]string{"a": {"*", "x"}}, nil, "stands alone"},
		{map[string][]string{"a": {}}, nil, "needs a name and members"},
	} {
		got, err := desired.RingOrder(tc.rings)
		if tc.err != "" {
			require.ErrorContains(t, err, tc.err)
			continue
		}
		require.NoError(t, err)
		require.Equal(t, tc.want, got)
	}
}

func TestParseRolloutRequest(t *testing.T) {
	doc := map[string]any{"apiVersion": "hubgw/v1", "kind": "SystemGroup", "metadata": map[string]any{"name": "web"}}
	req, err := desired.ParseRolloutRequest(map[string]any{"documents": []any{doc}, "targets": []any{"all", int64(1000010001)},
		"waves": []any{1, "10%"}, "maxFailures": "5%", "groupSlots": map[string]any{"dc1": 2}, "pauseBetween": "1m", "unreachable": "defer"})
	require.NoError(t, err)
	require.Equal(t, []string{"all", "1000010001"}, req.Targets)
	require.Equal(t, []rollout.Amount{"1", "10%"}, req.Waves)
	require.EqualValues(t, "5%", req.MaxFailures)
	require.Equal(t, "defer", req.Unreachable)

	_, err = desired.ParseRolloutRequest(map[string]any{"targets": "all", "canary": -1, "waves": []any{"x"}, "order": "size",
		"groupSlots": map[string]any{"dc1": 0}, "pauseBetween": "soon", "unreachable": "ignore", "pauseAfterCanary": "yes"})
	var ve *desired.ValidationError
	require.ErrorAs(t, err, &ve)
	require.Equal(t, []string{
		"canary: must be an integer, at least 0",
		"documents: a list of documents is required",
		"groupSlots.dc1: must be an integer, at least 1",
		"order: name, id or rings",
		"pauseAfterCanary: must be a boolean",
		"pauseBetween: a duration (\"30s\", \"5m\")",
		"unreachable: fail or defer",
		"waves[0]: a count or a percentage (\"10%\")",
	}, ve.Problems)
}

// stepGateway has group "web" in place; every other call gets no answer,
// from the start when down.
type stepGateway struct {
	fakeGateway
	down bool
}

func (g *stepGateway) Do(_ context.Context, req gateway.Request) (gateway.Outcome, error) {
	r := fanout.Result{Target: req.Targets[0]}
	if args := req.Args(0, req.Targets[0]); !g.down && req.Method == "systemgroup.getDetails" && args[0] == "web" {
		r.Value = rpc.Struct{{Name: "name", Value: "web"}, {Name: "description", Value: "Web"}}
	} else {
		r.Err = errors.New("connection refused")
	}
	return gateway.Outcome{Results: fanout.Results{r}}, nil
}

func (g *stepGateway) Session(context.Context, any) (*auth.Session, error) { return session, nil }
func (g *stepGateway) Resolve(context.Context, *auth.Session, []string) ([]target.Target, error) {
	return nil, nil
}

// A server's step succeeds only when every object is in place: one object
// that did not answer after others did makes it failed, not succeeded;
// none answering, unreachable.
func TestStepStatus(t *testing.T) {
	const web = "apiVersion: hubgw/v1\nkind: SystemGroup\nmetadata: {name: web}\nspec: {description: Web}\n"
	const db = "---\napiVersion: hubgw/v1\nkind: SystemGroup\nmetadata: {name: db}\nspec: {description: DB}\n"
	for _, tc := range []struct {
		docs string
		down bool
		want rollout.ServerStatus
		err  string
	}{
		{web, false, rollout.Done, ""},
		{web + db, false, rollout.Failed, "SystemGroup/db: unreachable"},
		{web + db, true, rollout.Unreachable, ""},
	} {
		gw := &stepGateway{down: tc.down}
		r := desired.NewRollouts(desired.New(gw), desired.RolloutOptions{Gateway: gw})
		res := r.Step(context.Background(), &rollout.Spec{Session: "k", Documents: []byte(tc.docs)}, target.Target{ID: 1, Name: "p1"}, rollout.Claim{Attempt: 1})
		require.Equal(t, tc.want, res.Status, "%+v", res)
		require.Contains(t, res.Err, tc.err)
	}
}
