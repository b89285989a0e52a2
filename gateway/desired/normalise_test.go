package desired_test

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/hubgw/hubgw/gateway"
	"github.com/hubgw/hubgw/gateway/desired"
	"github.com/hubgw/hubgw/gateway/fanout"
	"github.com/hubgw/hubgw/gateway/rpc"
	"github.com/hubgw/hubgw/gateway/target"
)

// uyuniServer answers reads the way Uyuni stores what the documents
// declared: rewritten (scrubbed, upper-cased, "None", 0 for unlimited,
// "644", local ids). A plan must see no difference.
type uyuniServer struct{ answers map[string]any }

func (u uyuniServer) Do(_ context.Context, req gateway.Request) (gateway.Outcome, error) {
	r := fanout.Result{Target: req.Targets[0]}
	key := req.Method
	if args := req.Args(0, req.Targets[0]); len(args) > 0 {
		if s, ok := args[0].(string); ok {
			key += " " + s
		}
	}
	v, ok := u.answers[key]
	if !ok {
		v, ok = u.answers[req.Method]
	}
	if !ok {
		r.Fault = &rpc.Fault{Code: -1, String: "unexpected " + key}
	} else {
		r.Value = v
	}
	return gateway.Outcome{Results: fanout.Results{r}}, nil
}

func (uyuniServer) JobRecorder() gateway.JobRecorder { return nil }
func (uyuniServer) Hub() target.Target               { return target.Target{Hub: true, Name: "hub"} }

func st(kv ...any) rpc.Struct {
	var s rpc.Struct
	for i := 0; i < len(kv); i += 2 {
		s = append(s, rpc.Member{Name: kv[i].(string), Value: kv[i+1]})
	}
	return s
}

func TestPlanNormalisesWhatUyuniRewrites(t *testing.T) {
	sum := sha256.Sum256([]byte("hello\n"))
	server := uyuniServer{answers: map[string]any{
		"user.getDetails":            st("org_id", int64(3)),
		"systemgroup.listAllGroups":  []any{st("id", int64(70), "name", "db"), st("id", int64(71), "name", "web")},
		"systemgroup.getDetails web": st("id", int64(71), "name", "web", "description", "none"),
		"channel.software.getDetails base-chan": st("label", "base-chan", "name", "Base", "summary", "s", "description", "padded",
			"arch_label", "channel-x86_64", "parent_channel_label", "", "gpg_key_id", "ABCD1234", "gpg_check", true,
			"checksum_label", "sha256", "contentSources", []any{}),
		"configchannel.getDetails cfg": st("name", "cfg", "description", "d", "configChannelType", st("label", "normal")),
		"configchannel.listFiles cfg":  []any{st("path", "/etc/motd", "type", "file")},
		"configchannel.lookupFileInfo cfg": []any{st("path", "/etc/motd", "type", "file", "owner", "root", "group", "root",
			"permissions_mode", "644", "selinux_ctx", "", "sha256", hex.EncodeToString(sum[:]))},
		"activationkey.getDetails 3-mykey1": st("key", "3-mykey1", "description", "None", "usage_limit", int64(0),
			"base_channel_label", "base-chan", "child_channel_labels", []any{"c2", "c1"}, "entitlements", []any{},
			"server_group_ids", []any{int64(71)}, "package_names", []any{"vim", "git"}, "universal_default", false,
			"disabled", false, "contact_method", "default"),
		"activationkey.listConfigChannels 3-mykey1":    []any{st("label", "cfg"), st("label", "other")},
		"activationkey.checkConfigDeployment 3-mykey1": int64(1),
		"configchannel.getDetails other":               st("label", "other", "configChannelType", st("label", "normal")),
		"channel.software.getDetails c1":               st("label", "c1"),
		"channel.software.getDetails c2":               st("label", "c2"),
	}}
	docs := `
apiVersion: hubgw/v1
kind: SystemGroup
metadata: {name: web}
spec: {description: "  "}
---
apiVersion: hubgw/v1
kind: SoftwareChannel
metadata: {name: base-chan}
spec: {name: Base, summary: s, description: "  padded ", arch: channel-x86_64, gpg: {id: abcd1234, check: true}}
---
apiVersion: hubgw/v1
kind: ConfigChannel
metadata: {name: cfg}
spec: {files: [{path: /etc/motd, content: "hello\n", mode: "0644", owner: root}]}
---
apiVersion: hubgw/v1
kind: ActivationKey
metadata: {name: "my key(1)"}
spec:
  description: "{}"
  usageLimit: unlimited
  baseChannel: base-chan
  childChannels: [c1, c2]
  packages: [git]
  systemGroups: [web]
  configChannels: [cfg]
  deployConfigs: true
`
	e := desired.New(server)
	p1 := []target.Target{{ID: 1, Name: "p1"}}
	plan, err := e.Plan(context.Background(), session, p1, load(t, docs))
	require.NoError(t, err)
	require.Equal(t, desired.PlanSummary{Noop: 4}, plan.Summary, "%+v", plan.Targets[0].Objects)
	require.Equal(t, "mykey1", plan.Targets[0].Objects[3].Name, "spaces and ( ) removed, as Uyuni does")

	// Order counts for a key's config channels; pruning makes sets exact.
	plan, err = e.Plan(context.Background(), session, p1, load(t, strings.NewReplacer("configChannels: [cfg]", "configChannels: [other, cfg]",
		"packages: [git]", "packages: [git]\n  prune: {packages: true}").Replace(docs)))
	require.NoError(t, err)
	key := plan.Targets[0].Objects[3]
	require.Equal(t, desired.ActUpdate, key.Action)
	require.Equal(t, []desired.Change{
		{Field: "configChannels", Have: []string{"cfg", "other"}, Want: []string{"other", "cfg"}},
		{Field: "packages", Have: []string{"git", "vim"}, Want: []string{"git"}},
	}, key.Changes)

	// An immutable field is a conflict, never an update.
	plan, err = e.Plan(context.Background(), session, p1, load(t, strings.Replace(docs, "arch: channel-x86_64", "arch: channel-ia32", 1)))
	require.NoError(t, err)
	require.Equal(t, desired.ActConflict, plan.Targets[0].Objects[1].Action)
	require.Contains(t, plan.Targets[0].Objects[1].Reason, "arch cannot change")
	require.Equal(t, desired.ActBlocked, plan.Targets[0].Objects[3].Action, "the key needs the conflicting channel")
}
