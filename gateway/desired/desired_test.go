package desired_test

import (
	"context"
	"strings"
	"sync"
	"testing"
	"testing/fstest"

	"github.com/stretchr/testify/require"

	"github.com/hubgw/hubgw/auth"
	"github.com/hubgw/hubgw/gateway"
	"github.com/hubgw/hubgw/gateway/desired"
	"github.com/hubgw/hubgw/gateway/fanout"
	"github.com/hubgw/hubgw/gateway/rpc"
	"github.com/hubgw/hubgw/gateway/target"
	"github.com/hubgw/hubgw/gateway/uyuniapi"
)

// fakeGateway answers every read as "absent" (or empty) and records methods.
type fakeGateway struct {
	mu     sync.Mutex
	calls  []string
	logins []any // user.getDetails's login argument
}

func (f *fakeGateway) Do(_ context.Context, req gateway.Request) (gateway.Outcome, error) {
	f.mu.Lock()
	f.calls = append(f.calls, req.Method)
	f.mu.Unlock()
	if !req.Internal {
		panic("the engine's calls must be Internal: the apply is the job")
	}
	r := fanout.Result{Target: req.Targets[0]}
	switch req.Method {
	case "user.getDetails":
		f.mu.Lock()
		f.logins = append(f.logins, req.Args(0, req.Targets[0])[0])
		f.mu.Unlock()
		r.Value = rpc.Struct{{Name: "org_id", Value: int64(1)}}
	case "systemgroup.listAllGroups":
		r.Value = []any{}
	case "systemgroup.getDetails":
		r.Fault = &rpc.Fault{Code: 2201, String: "Unable to locate or access server group"}
	case "activationkey.getDetails":
		r.Fault = &rpc.Fault{Code: -212, String: "Activation Key [1-k] Not Found!"}
	default:
		r.Fault = &rpc.Fault{Code: -210, String: "No such channel"}
	}
	return gateway.Outcome{Results: fanout.Results{r}}, nil
}

func (f *fakeGateway) JobRecorder() gateway.JobRecorder { return nil }
func (f *fakeGateway) Hub() target.Target               { return target.Target{Hub: true, Name: "hub"} }

const bundle = `
apiVersion: hubgw/v1
kind: ActivationKey
metadata: {name: web}
spec: {baseChannel: base-chan, childChannels: [child-chan], systemGroups: [web], configChannels: [cfg]}
---
apiVersion: hubgw/v1
kind: SoftwareChannel
metadata: {name: child-chan}
spec: {name: Child, summary: c, arch: channel-x86_64, parent: base-chan}
---
apiVersion: hubgw/v1
kind: SoftwareChannel
metadata: {name: base-chan}
spec: {name: Base, summary: b, arch: channel-x86_64}
---
apiVersion: hubgw/v1
kind: ConfigChannel
metadata: {name: cfg}
spec: {files: [{path: /etc/motd, content: "hi\n"}]}
---
apiVersion: hubgw/v1
kind: SystemGroup
metadata: {name: web}
spec: {description: Web}
`

func load(t *testing.T, text string) *desired.Bundle {
	t.Helper()
	docs, err := desired.ParseYAML([]byte(text))
	require.NoError(t, err)
	b, err := desired.Load(docs)
	require.NoError(t, err)
	return b
}

var session = &auth.Session{User: "admin"}

func TestPlanOnlyReads(t *testing.T) {
	fg := &fakeGateway{}
	e := desired.New(fg)
	targets := []target.Target{{ID: 1, Name: "p1"}, {ID: 2, Name: "p2"}}
	plan, err := e.Plan(context.Background(), session, targets, load(t, bundle))
	require.NoError(t, err)
	require.Equal(t, desired.PlanSummary{Create: 10}, plan.Summary)
	// Dependency order: groups, base channels, child channels, config channels, keys.
	var order []string
	for _, o := range plan.Targets[0].Objects {
		order = append(order, o.Kind+"/"+o.Name)
	}
	require.Equal(t, []string{"SystemGroup/web", "SoftwareChannel/base-chan", "SoftwareChannel/child-chan",
		"ConfigChannel/cfg", "ActivationKey/web"}, order)
	require.NotEmpty(t, fg.calls)
	for _, m := range fg.calls {
		require.True(t, uyuniapi.ReadOnly(m), "a plan sent %s", m)
	}
}

func TestPlanInvokerRefusesWrites(t *testing.T) {
	for _, m := range []string{"channel.software.create", "configchannel.createOrUpdatePath", "activationkey.setDetails", "systemgroup.create", "auth.logout"} {
		fg := &fakeGateway{}
		_, err := desired.PlanCall(context.Background(), desired.New(fg), session, target.Target{ID: 1, Name: "p1"}, m)
		require.ErrorIs(t, err, desired.ErrWriteInPlan, m)
		require.Empty(t, fg.calls, "%s reached the gateway", m)
	}
	fg := &fakeGateway{}
	_, err := desired.PlanCall(context.Background(), desired.New(fg), session, target.Target{ID: 1, Name: "p1"}, "channel.software.getDetails", "x")
	require.Error(t, err) // the fake's -210: a read goes through
	require.Equal(t, []string{"channel.software.getDetails"}, fg.calls)
}

func TestValidationListsEveryProblem(t *testing.T) {
	cases := []struct {
		name, docs string
		want       []string
	}{
		{"mode and kind", `
apiVersion: hubgw/v1
kind: SystemGroup
metadata: {name: g}
---
apiVersion: hubgw/v1
kind: Nothing
metadata: {name: x}
---
apiVersion: hubgw/v1
kind: ConfigChannel
metadata: {name: cfg}
spec:
  files:
    - {path: /etc/motd, content: x, mode: "644x"}
    - {path: relative, type: directory, content: y}
`, []string{
			`documents[1].kind: "Nothing" is not one of`,
			`documents[2].spec.files[0].mode: "644x" is not an octal mode`,
			`documents[2].spec.files[1].path: "relative" is not an absolute path`,
			`documents[2].spec.files[1].content: only files have content`,
		}},
		{"channel fields", `
apiVersion: hubgw/v2
kind: SoftwareChannel
metadata: {name: Bad Label}
spec: {summary: 3, checksum: md5, colour: red}
`, []string{
			`documents[0].apiVersion: hubgw/v2 is not "hubgw/v1"`,
			`documents[0].metadata.name: "Bad Label" is not a channel label`,
			`documents[0].spec.summary: 3 is not a string`,
			`documents[0].spec.checksum: "md5" is not one of`,
			`documents[0].spec.colour: unknown field`,
			`documents[0].spec.name: missing`,
			`documents[0].spec.arch: missing`,
		}},
		{"keys", `
apiVersion: hubgw/v1
kind: ActivationKey
metadata: {name: a}
spec: {usageLimit: lots, universalDefault: true, childChannels: [""]}
---
apiVersion: hubgw/v1
kind: ActivationKey
metadata: {name: b}
spec: {universalDefault: true}
---
apiVersion: hubgw/v1
kind: ActivationKey
metadata: {name: a}
`, []string{
			`documents[0].spec.usageLimit: "lots" is not a number or "unlimited"`,
			`documents[0].spec.childChannels[0]:  is not a non-empty string`,
			`documents[1].spec.universalDefault: only one activation key per org`,
			`documents[2].metadata.name: ActivationKey "a" is declared twice (first in documents[0])`,
		}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			docs, err := desired.ParseYAML([]byte(c.docs))
			require.NoError(t, err)
			_, err = desired.Load(docs)
			var ve *desired.ValidationError
			require.ErrorAs(t, err, &ve)
			for _, w := range c.want {
				require.True(t, containsPrefix(ve.Problems, w), "want %q in\n%s", w, strings.Join(ve.Problems, "\n"))
			}
		})
	}
}

func containsPrefix(list []string, p string) bool {
	for _, s := range list {
		if strings.HasPrefix(s, p) {
			return true
		}
	}
	return false
}

func TestReadSources(t *testing.T) {
	docs, err := desired.ParseYAML([]byte(`
apiVersion: hubgw/v1
kind: ConfigChannel
metadata: {name: cfg}
spec: {files: [{path: /etc/motd, source: files/motd}, {path: /etc/x, source: ./missing}]}
`))
	require.NoError(t, err)
	dir := fstest.MapFS{"files/motd": {Data: []byte("hello\n")}}
	err = desired.ReadSources(docs, dir)
	var ve *desired.ValidationError
	require.ErrorAs(t, err, &ve)
	require.Len(t, ve.Problems, 1)
	require.Contains(t, ve.Problems[0], `documents[0].spec.files[1].source: "./missing" cannot be read`)
	files := docs[0].(map[string]any)["spec"].(map[string]any)["files"].([]any)
	require.Equal(t, map[string]any{"path": "/etc/motd", "content": "hello\n"}, files[0])
}

// A key's org prefix is that of the account the server knows the caller
// as (a service account on p1), not the hub user's.
func TestKeyOrgOfTheServersAccount(t *testing.T) {
	p1, p2 := target.Target{ID: 1, Name: "p1"}, target.Target{ID: 2, Name: "p2"}
	s := &auth.Session{User: "admin", Logins: map[string]string{p1.Key(): "svc"}}
	for _, tc := range []struct {
		t    target.Target
		want string
	}{{p1, "svc"}, {p2, "admin"}} {
		fg := &fakeGateway{}
		_, err := desired.New(fg).Plan(context.Background(), s, []target.Target{tc.t}, load(t, bundle))
		require.NoError(t, err)
		require.Equal(t, []any{tc.want}, fg.logins, tc.t.Name)
	}
}
