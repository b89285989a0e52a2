package jobs

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/hubgw/hubgw/gateway/target"
)

// The hand encoders write what encoding/json writes, byte for byte.

var awkward = []string{
	"", "peripheral-1.example.com", `quote "`, `back\slash`, "a<b", "a>b", "a&b", "<script>&amp;</script>",
	"tab\tnew\nline\r\x00\x1f", "héllo wörld", "\u2028\u2029", "invalid \xff\xfe utf-8", "emoji 🚀",
}

func TestAppendTargetIsEncodingJSON(t *testing.T) {
	fin := time.Date(2026, 12, 2, 4, 24, 8, 123456789, time.UTC)
	zone := time.Date(2026, 1, 2, 3, 4, 5, 0, time.FixedZone("", 3600))
	cases := []Target{
		{},
		{ServerID: 1000010001, ServerName: "peripheral-1", Outcome: TargetRunning},
		{ServerName: "hub", Hub: true, OK: true, Outcome: "ok", Value: json.RawMessage(`[{"id":1,"name":"web1"}]`), DurationMs: 12, Attempts: 1, Finished: &fin},
		{ServerID: -5, Outcome: "fault", FaultCode: -210, FaultString: "no such system", Attempts: 3, Finished: &zone},
		{Outcome: "transport", ValueOmitted: "result of 9000 bytes is over the 4096 byte limit", Error: "dial tcp: refused", FaultCode: 4102, Args: json.RawMessage(`["(session key)",1000010001]`)},
	}
	for _, s := range awkward {
		cases = append(cases, Target{ServerName: s, Outcome: s, ValueOmitted: s, FaultString: s, Error: s})
	}
	for _, c := range cases {
		want, err := json.Marshal(c)
		require.NoError(t, err)
		require.Equal(t, string(want), string(appendTarget(nil, &c)))
	}
}

func TestAppendHeaderIsEncodingJSON(t *testing.T) {
	ts := []target.Target{{ID: 1000010001, Name: "peripheral-1"}, {Hub: true, Name: "hub"}, {ID: 7, Name: "<odd> \"name\""}}
	for _, h := range []header{
		{ID: "j1", Method: "system.listSystems", User: "admin", Replica: "gw-1", Started: time.Date(2026, 12, 2, 4, 0, 0, 5, time.UTC)},
		{ID: "j2", Method: "m", User: "héllo", Args: json.RawMessage(`["(session key)","all"]`), Replica: "r", Started: time.Unix(0, 0).UTC()},
		{ID: "j3", Method: "m", User: "u", Replica: "r", Sealed: []byte{0, 1, 2, 250, 251, 252, 253}},
	} {
		for _, targets := range [][]target.Target{nil, ts[:1], ts} {
			want := h
			want.Targets = []Target{}
			for _, t := range targets {
				want.Targets = append(want.Targets, Target{ServerID: t.ID, ServerName: t.String(), Hub: t.Hub, Outcome: TargetRunning})
			}
			b, err := json.Marshal(want)
			require.NoError(t, err)
			require.Equal(t, string(b), string(appendHeader(nil, &h, targets)))
		}
	}
}

func FuzzAppendString(f *testing.F) {
	for _, s := range awkward {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		want, _ := json.Marshal(s)
		if got := appendString(nil, s); string(got) != string(want) {
			t.Fatalf("appendString(%q) = %s, encoding/json: %s", s, got, want)
		}
	})
}
