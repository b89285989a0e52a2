package desired_test

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/hubgw/hubgw/gateway/desired"
	"github.com/hubgw/hubgw/gateway/rollout"
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
