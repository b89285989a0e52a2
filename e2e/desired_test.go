package e2e

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"maps"
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/hubgw/hubgw/e2e/uyunisim"
	"github.com/hubgw/hubgw/gateway/rpc"
	"github.com/hubgw/hubgw/gateway/uyuniapi"
)

// motd ends in a newline that must survive the trip (Uyuni trims strings).
const motd = "Welcome to the fleet\n"

// bundle is the bundle: a base and a child channel with a repo, a
// config channel with a text file, a directory and a symlink, a group, and
// a key that uses all of them.
const bundle = `apiVersion: hubgw/v1
kind: ActivationKey
metadata: {name: web}
spec:
  description: Web servers
  baseChannel: fleet-base
  childChannels: [fleet-tools]
  entitlements: [monitoring_entitled]
  usageLimit: unlimited
  contactMethod: default
  configChannels: [fleet-cfg]
  deployConfigs: true
  packages: [vim]
  systemGroups: [web]
---
apiVersion: hubgw/v1
kind: SoftwareChannel
metadata: {name: fleet-tools}
spec:
  name: Fleet Tools
  summary: tools
  arch: channel-x86_64
  parent: fleet-base
  repositories:
    - {label: fleet-tools-repo, type: yum, url: "https://repo.example.org/tools"}
---
apiVersion: hubgw/v1
kind: SoftwareChannel
metadata: {name: fleet-base}
spec:
  name: Fleet Base
  summary: base
  description: the fleet's base channel
  arch: channel-x86_64
  checksum: sha256
  gpg: {id: "abcd1234", check: true}
---
apiVersion: hubgw/v1
kind: ConfigChannel
metadata: {name: fleet-cfg}
spec:
  name: Fleet config
  description: motd and friends
  files:
    - {path: /etc/motd, content: "Welcome to the fleet\n", owner: root, group: root, mode: "0644"}
    - {path: /etc/fleet, type: directory, mode: "0755"}
    - {path: /etc/fleet/motd, type: symlink, target: /etc/motd}
  subscribe: {systemGroups: [web]}
---
apiVersion: hubgw/v1
kind: SystemGroup
metadata: {name: web}
spec: {description: Web servers}
`

// desiredRig is a simulator with n peripherals and a gateway, logged in
// over REST in autoconnect mode.
func desiredRig(t *testing.T, cfg uyunisim.Config) (*uyunisim.Sim, *gw, string) {
	t.Helper()
	sim := startSim(t, cfg)
	g := startGateway(t, sim, nil)
	token := restLogin(t, g, "autoconnect")
	return sim, g, token
}

// planOrApply posts YAML documents to targets.
func planOrApply(t *testing.T, g *gw, token, op, docs string, targets ...string) map[string]any {
	t.Helper()
	r := restWith(t, http.DefaultClient, g, http.MethodPost, "/api/v1/"+op+"?targets="+strings.Join(targets, ","), token, "application/yaml", docs)
	require.Equal(t, http.StatusOK, r.Status, "%s", r.Body)
	return r.JSON(t)
}

// byServer maps each target's objects ("Kind/name" → action or outcome).
func byServer(t *testing.T, res map[string]any, field string) map[string]map[string]string {
	t.Helper()
	out := map[string]map[string]string{}
	for _, tv := range res["targets"].([]any) {
		tm := tv.(map[string]any)
		objs := map[string]string{}
		for _, ov := range tm["objects"].([]any) {
			om := ov.(map[string]any)
			objs[om["kind"].(string)+"/"+om["name"].(string)] = om[field].(string)
		}
		out[tm["target"].(string)] = objs
	}
	return out
}

func allEqual(t *testing.T, got map[string]map[string]string, want string, servers int) {
	t.Helper()
	require.Len(t, got, servers)
	for srv, objs := range got {
		require.Len(t, objs, 5, srv)
		for o, v := range objs {
			require.Equal(t, want, v, "%s on %s: %v", o, srv, got)
		}
	}
}

// writes are the write calls a server received.
func writes(s *uyunisim.Server) []string {
	var out []string
	for _, c := range s.Calls() {
		if c.Method != "" && !uyuniapi.ReadOnly(c.Method) && !strings.HasPrefix(c.Method, "auth.") {
			out = append(out, c.Method)
		}
	}
	return out
}

func resetCalls(sim *uyunisim.Sim) {
	for _, s := range sim.Servers() {
		s.ResetCalls()
	}
}

func TestDesiredApplyBundleTwice(t *testing.T) {
	sim, g, token := desiredRig(t, uyunisim.Config{Peripherals: 3})

	plan := planOrApply(t, g, token, "plan", bundle, "all")
	allEqual(t, byServer(t, plan, "action"), "create", 3)
	require.Equal(t, json.Number("15"), plan["summary"].(map[string]any)["create"])

	res := planOrApply(t, g, token, "apply", bundle, "all")
	allEqual(t, byServer(t, res, "outcome"), "created", 3)
	require.NotEmpty(t, res["jobId"])

	sum := sha256.Sum256([]byte(motd))
	for _, p := range sim.Peripherals() {
		o := p.Objects()
		key := findKey(t, o, "web")
		require.Equal(t, "fleet-base", key.Base, p.Name())
		require.Equal(t, []string{"fleet-tools"}, key.ChildChannels)
		require.Equal(t, []string{"fleet-cfg"}, key.ConfigChannels)
		require.True(t, key.DeployConfigs)
		require.Equal(t, []string{"vim"}, key.Packages)
		require.Len(t, key.Groups, 1)
		cc := findConfig(t, o, "fleet-cfg")
		files := map[string]uyunisim.ConfigFileJSON{}
		for _, f := range cc.Files {
			files[f.Path] = f
		}
		require.Equal(t, hex.EncodeToString(sum[:]), files["/etc/motd"].SHA256, "the file is byte-identical, final newline included")
		require.Equal(t, "directory", files["/etc/fleet"].Type)
		require.Equal(t, "755", files["/etc/fleet"].Permissions)
		require.Equal(t, "/etc/motd", files["/etc/fleet/motd"].Target)
		ch := findChannel(t, o, "fleet-tools")
		require.Equal(t, "fleet-base", ch.Parent)
		require.Equal(t, []string{"fleet-tools-repo"}, ch.Repos)
		require.Equal(t, "ABCD1234", findChannel(t, o, "fleet-base").GPGID)
	}

	// Again: everything unchanged, no write reaches any server, no new revision.
	resetCalls(sim)
	res = planOrApply(t, g, token, "apply", bundle, "all")
	allEqual(t, byServer(t, res, "outcome"), "unchanged", 3)
	for _, s := range sim.Servers() {
		require.Empty(t, writes(s), s.Name())
	}
	for _, p := range sim.Peripherals() {
		for _, f := range findConfig(t, p.Objects(), "fleet-cfg").Files {
			require.Equal(t, 1, f.Revisions, f.Path)
		}
	}
}

func findKey(t *testing.T, o uyunisim.Objects, name string) uyunisim.KeyJSON {
	t.Helper()
	for _, k := range o.ActivationKeys {
		if strings.HasSuffix(k.Key, "-"+name) {
			return k
		}
	}
	t.Fatalf("no key %s", name)
	return uyunisim.KeyJSON{}
}

func findConfig(t *testing.T, o uyunisim.Objects, label string) uyunisim.ConfigChannelJSON {
	t.Helper()
	i := slices.IndexFunc(o.ConfigChannels, func(c uyunisim.ConfigChannelJSON) bool { return c.Label == label })
	require.GreaterOrEqual(t, i, 0, "no config channel %s", label)
	return o.ConfigChannels[i]
}

func findChannel(t *testing.T, o uyunisim.Objects, label string) uyunisim.ChannelJSON {
	t.Helper()
	i := slices.IndexFunc(o.Channels, func(c uyunisim.ChannelJSON) bool { return c.Label == label })
	require.GreaterOrEqual(t, i, 0, "no channel %s", label)
	return o.Channels[i]
}

func TestDesiredPlanCannotWrite(t *testing.T) {
	sim, g, token := desiredRig(t, uyunisim.Config{Peripherals: 2})
	resetCalls(sim)
	plan := planOrApply(t, g, token, "plan", bundle, "all")
	allEqual(t, byServer(t, plan, "action"), "create", 2)
	for _, s := range sim.Servers() {
		require.Empty(t, writes(s), "a plan wrote to %s", s.Name())
	}
	for _, p := range sim.Peripherals() {
		require.NotEmpty(t, p.Calls(), p.Name()) // it did read
	}
}

func TestDesiredDriftOnOneServer(t *testing.T) {
	sim, g, token := desiredRig(t, uyunisim.Config{Peripherals: 3})
	planOrApply(t, g, token, "apply", bundle, "all")
	p2 := sim.Peripherals()[1]
	require.NoError(t, p2.ChangeObject(uyunisim.ObjectChange{Kind: "config_file", Channel: "fleet-cfg", Path: "/etc/motd",
		Set: map[string]any{"contents": "drifted"}}))

	plan := planOrApply(t, g, token, "plan", bundle, "all")
	for srv, objs := range byServer(t, plan, "action") {
		for o, a := range objs {
			want := "noop"
			if srv == pname(p2) && o == "ConfigChannel/fleet-cfg" {
				want = "update"
			}
			require.Equal(t, want, a, "%s on %s", o, srv)
		}
	}
	changes := plan["targets"].([]any)[1].(map[string]any)["objects"].([]any)[3].(map[string]any)["changes"].([]any)
	require.Len(t, changes, 1)
	require.Equal(t, "files[/etc/motd].sha256", changes[0].(map[string]any)["field"])

	resetCalls(sim)
	res := planOrApply(t, g, token, "apply", bundle, "all")
	require.Equal(t, json.Number("1"), res["summary"].(map[string]any)["updated"])
	require.Equal(t, json.Number("14"), res["summary"].(map[string]any)["unchanged"])
	for _, s := range sim.Servers() {
		want := []string(nil)
		if s == p2 {
			want = []string{"configchannel.createOrUpdatePath", "configchannel.deployAllSystems"}
		}
		require.Equal(t, want, writes(s), s.Name())
	}
	sum := sha256.Sum256([]byte(motd))
	for _, f := range findConfig(t, p2.Objects(), "fleet-cfg").Files {
		if f.Path == "/etc/motd" {
			require.Equal(t, hex.EncodeToString(sum[:]), f.SHA256)
			require.Equal(t, 3, f.Revisions) // applied, drifted, fixed
		}
	}
}

func TestDesiredKeyBaseChange(t *testing.T) {
	sim, g, token := desiredRig(t, uyunisim.Config{Peripherals: 2})
	planOrApply(t, g, token, "apply", bundle, "all")
	moved := strings.Replace(bundle, "baseChannel: fleet-base\n  childChannels: [fleet-tools]", "baseChannel: other-base\n  childChannels: [other-tools]", 1) + `---
apiVersion: hubgw/v1
kind: SoftwareChannel
metadata: {name: other-base}
spec: {name: Other Base, summary: b, arch: channel-x86_64}
---
apiVersion: hubgw/v1
kind: SoftwareChannel
metadata: {name: other-tools}
spec: {name: Other Tools, summary: t, arch: channel-x86_64, parent: other-base}
`
	res := planOrApply(t, g, token, "apply", moved, "all")
	for srv, objs := range byServer(t, res, "outcome") {
		require.Equal(t, "updated", objs["ActivationKey/web"], srv)
	}
	for _, p := range sim.Peripherals() {
		key := findKey(t, p.Objects(), "web")
		require.Equal(t, "other-base", key.Base)
		require.Equal(t, []string{"other-tools"}, key.ChildChannels, "children re-added after the base change")
		require.Equal(t, []string{"fleet-cfg"}, key.ConfigChannels)
	}
	res = planOrApply(t, g, token, "apply", moved, "all")
	require.Equal(t, json.Number("14"), res["summary"].(map[string]any)["unchanged"])
}

// TestDesiredOutcomesPerServer: each server's trouble gives its outcome
// there only: a channel label taken by an invisible org (conflict, and the
// objects that need it blocked), an immutable field, a server down
// (unreachable), a failure in the middle of a key's writes (partial).
func TestDesiredOutcomesPerServer(t *testing.T) {
	sim, g, token := desiredRig(t, uyunisim.Config{Peripherals: 5})
	ps := sim.Peripherals()
	require.NoError(t, ps[0].ChangeObject(uyunisim.ObjectChange{Kind: "channel", Label: "fleet-base", Name: "Somebody Else", Hidden: true}))
	require.NoError(t, ps[1].ChangeObject(uyunisim.ObjectChange{Kind: "config_channel", Label: "fleet-cfg", Set: map[string]any{"type": "state"}}))
	require.NoError(t, ps[2].Inject(uyunisim.Faults{Down: true}))
	require.NoError(t, ps[3].Inject(uyunisim.Faults{FailMethod: map[string]*rpc.Fault{"activationkey.addPackages": {Code: -1, String: "boom"}}}))

	res := planOrApply(t, g, token, "apply", bundle, "all")
	got := byServer(t, res, "outcome")
	want := map[string]string{"SystemGroup/web": "created", "SoftwareChannel/fleet-base": "created", "SoftwareChannel/fleet-tools": "created",
		"ConfigChannel/fleet-cfg": "created", "ActivationKey/web": "created"}
	with := func(changes map[string]string) map[string]string {
		out := maps.Clone(want)
		maps.Copy(out, changes)
		return out
	}
	require.Equal(t, with(map[string]string{"SoftwareChannel/fleet-base": "conflict", "SoftwareChannel/fleet-tools": "blocked", "ActivationKey/web": "blocked"}), got[pname(ps[0])])
	require.Equal(t, with(map[string]string{"ConfigChannel/fleet-cfg": "conflict", "ActivationKey/web": "blocked"}), got[pname(ps[1])])
	require.Equal(t, map[string]string{"SystemGroup/web": "unreachable", "SoftwareChannel/fleet-base": "unreachable", "SoftwareChannel/fleet-tools": "unreachable",
		"ConfigChannel/fleet-cfg": "unreachable", "ActivationKey/web": "unreachable"}, got[pname(ps[2])])
	require.Equal(t, with(map[string]string{"ActivationKey/web": "failed"}), got[pname(ps[3])])
	require.Equal(t, want, got[pname(ps[4])])

	key := object(t, res, pname(ps[3]), "ActivationKey/web")
	require.Equal(t, true, key["partial"])
	require.Equal(t, json.Number("-1"), key["faultCode"])
	var steps []string
	for _, s := range key["steps"].([]any) {
		steps = append(steps, s.(map[string]any)["call"].(string))
	}
	require.Equal(t, "activationkey.create", steps[0])
	require.Equal(t, "activationkey.addPackages", steps[len(steps)-1])
	conflict := object(t, res, pname(ps[0]), "SoftwareChannel/fleet-base")
	require.Equal(t, json.Number("1201"), conflict["faultCode"]) // the label is taken in an org the user cannot see

	// The job records the apply once, per server.
	job := rest(t, g, http.MethodGet, "/api/v1/jobs/"+res["jobId"].(string), token, nil)
	require.Equal(t, http.StatusOK, job.Status, "%s", job.Body)
	j := job.JSON(t)
	require.Equal(t, "hub.apply", j["method"])
	require.Len(t, j["targets"], 5)
	require.NotContains(t, string(job.Body), "Welcome to the fleet", "file contents never enter job records")
	require.Contains(t, string(job.Body), `"outcome":"conflict"`, "the job keeps each server's outcomes per object")
	statuses := map[string]string{}
	for _, tv := range j["targets"].([]any) {
		tm := tv.(map[string]any)
		statuses[tm["serverName"].(string)] = tm["outcome"].(string)
		if tm["outcome"] == "fault" {
			require.Equal(t, json.Number("4126"), tm["faultCode"], "objects failed there: %v", tm)
			require.NotNil(t, tm["value"], "a failed server keeps its outcomes: %v", tm)
		}
	}
	require.Equal(t, "ok", statuses[pname(ps[4])])
	require.Equal(t, "fault", statuses[pname(ps[3])], "a server whose objects failed is not ok")

	// The apply ran as a rollout of one wave, kept for audit.
	ro := rest(t, g, http.MethodGet, "/api/v1/rollouts/"+res["rolloutId"].(string), token, nil)
	require.Equal(t, http.StatusOK, ro.Status, "%s", ro.Body)
	rec := ro.JSON(t)
	require.Equal(t, "completed-with-failures", rec["status"])
	require.Len(t, rec["waves"], 1)
	require.Len(t, rec["targets"], 5)
}

// object finds one object's entry of one server in a plan or apply answer.
func object(t *testing.T, res map[string]any, server, name string) map[string]any {
	t.Helper()
	for _, tv := range res["targets"].([]any) {
		tm := tv.(map[string]any)
		if tm["target"] != server {
			continue
		}
		for _, ov := range tm["objects"].([]any) {
			om := ov.(map[string]any)
			if om["kind"].(string)+"/"+om["name"].(string) == name {
				return om
			}
		}
	}
	t.Fatalf("no %s on %s", name, server)
	return nil
}

// TestDesiredPythonXMLRPC drives hub.plan, hub.apply and hub.export with
// Python's xmlrpc.client: a script's view of the same contract.
func TestDesiredPythonXMLRPC(t *testing.T) {
	sim := startSim(t, uyunisim.Config{Peripherals: 2})
	g := startGateway(t, sim, nil)
	out := python(t, `
import json, os, sys, xmlrpc.client as x
s = x.ServerProxy(os.environ["GW"])
k = s.hub.loginWithAutoconnectMode("admin", "admin")["SessionKey"]
docs = os.environ["DOCS"]
out = {}
out["plan"] = s.hub.plan(k, docs, ["all"])["summary"]
a = s.hub.apply(k, docs, ["all"])
out["apply"] = a["summary"]
out["job"] = s.hub.getJob(k, a["jobId"])["Method"]
out["again"] = s.hub.apply(k, docs, "all")["summary"]
out["export"] = s.hub.export(k, os.environ["P1"], "ConfigChannel", "fleet-cfg")
out["key"] = s.hub.export(k, os.environ["P1"], "ActivationKey", "web")["spec"]
try:
    s.hub.plan(k, "apiVersion: hubgw/v1\nkind: ConfigChannel\nmetadata: {name: c}\nspec: {files: [{path: /x, content: y, mode: '644x'}]}", ["all"])
except x.Fault as e:
    out["invalid"] = [e.faultCode, e.faultString]
try:
    s.hub.export(k, os.environ["P1"], "SystemGroup", "nope")
except x.Fault as e:
    out["missing"] = e.faultCode
print(json.dumps(out))
`, "GW="+g.URL, "DOCS="+bundle, "P1="+pname(sim.Peripherals()[0]))
	var got map[string]any
	require.NoError(t, json.Unmarshal([]byte(out), &got), out)
	require.Equal(t, float64(10), got["plan"].(map[string]any)["create"])
	require.Equal(t, float64(10), got["apply"].(map[string]any)["created"])
	require.Equal(t, "hub.apply", got["job"])
	require.Equal(t, float64(10), got["again"].(map[string]any)["unchanged"])
	exp := got["export"].(map[string]any)
	require.Equal(t, "hubgw/v1", exp["apiVersion"])
	files := exp["spec"].(map[string]any)["files"].([]any)
	require.Len(t, files, 3)
	require.Equal(t, map[string]any{"path": "/etc/motd", "type": "file", "content": motd, "owner": "root", "group": "root", "mode": "0644"}, files[2])
	key := got["key"].(map[string]any)
	require.Equal(t, "fleet-base", key["baseChannel"])
	require.Equal(t, []any{"web"}, key["systemGroups"])
	require.Equal(t, []any{float64(-32602), `hubgw: invalid documents: documents[0].spec.files[0].mode: "644x" is not an octal mode (write it quoted: "0644")`}, got["invalid"])
	require.Equal(t, float64(-210), got["missing"])
}

// TestDesiredExportThenApply: the hub's key, exported, applied to every
// peripheral, makes them all alike; the exported document plans as noop
// on the server it came from.
func TestDesiredExportThenApply(t *testing.T) {
	sim, g, token := desiredRig(t, uyunisim.Config{Peripherals: 2})
	planOrApply(t, g, token, "apply", bundle, "hub")
	var docs []any
	for _, o := range []string{"SystemGroup/web", "SoftwareChannel/fleet-base", "SoftwareChannel/fleet-tools", "ConfigChannel/fleet-cfg", "ActivationKey/web"} {
		r := rest(t, g, http.MethodGet, "/api/v1/export/hub/"+o, token, nil)
		require.Equal(t, http.StatusOK, r.Status, "%s", r.Body)
		docs = append(docs, r.JSON(t))
	}
	r := rest(t, g, http.MethodPost, "/api/v1/plan", token, map[string]any{"documents": docs, "targets": []string{"hub"}})
	require.Equal(t, http.StatusOK, r.Status, "%s", r.Body)
	require.Equal(t, json.Number("5"), r.JSON(t)["summary"].(map[string]any)["noop"], "%s", r.Body)
	r = rest(t, g, http.MethodPost, "/api/v1/apply", token, map[string]any{"documents": docs, "targets": []string{"all"}})
	require.Equal(t, http.StatusOK, r.Status, "%s", r.Body)
	require.Equal(t, json.Number("10"), r.JSON(t)["summary"].(map[string]any)["created"], "%s", r.Body)
	hubKey := findKey(t, sim.Hub().Objects(), "web")
	for _, p := range sim.Peripherals() {
		k := findKey(t, p.Objects(), "web")
		require.Equal(t, hubKey.Base, k.Base)
		require.Equal(t, hubKey.ChildChannels, k.ChildChannels)
		require.Equal(t, hubKey.ConfigChannels, k.ConfigChannels)
		require.Equal(t, hubKey.Packages, k.Packages)
	}

	// Bad requests are problem+json.
	bad := restWith(t, http.DefaultClient, g, http.MethodPost, "/api/v1/plan?targets=all", token, "application/yaml", "kind: Nope\n")
	p := requireProblem(t, bad, http.StatusUnprocessableEntity, -32602, `documents[0].kind: "Nope" is not one of`)
	require.Contains(t, invalidParams(t, p), "documents[0].apiVersion")
	bad = rest(t, g, http.MethodPost, "/api/v1/plan", token, map[string]any{"documents": docs})
	requireProblem(t, bad, http.StatusBadRequest, -32602, "targets")
	bad = rest(t, g, http.MethodGet, "/api/v1/export/hub/SystemGroup/nope", token, nil)
	requireProblem(t, bad, http.StatusNotFound, -210, "no SystemGroup")
}

// TestDesiredInterruptedThenConverges: a server that ran a create but
// whose answer was lost (the hub-crashed-mid-sync question) shows what is
// known per object; the next apply finishes the job with only what is
// missing. A dependency outside the documents that a server lacks blocks
// the object there.
func TestDesiredInterruptedThenConverges(t *testing.T) {
	sim, g, token := desiredRig(t, uyunisim.Config{Peripherals: 2})
	p1 := sim.Peripherals()[0]
	require.NoError(t, p1.Inject(uyunisim.Faults{DropAnswer: []string{"configchannel.create"}}))
	res := planOrApply(t, g, token, "apply", bundle, "all")
	got := byServer(t, res, "outcome")[pname(p1)]
	require.Equal(t, "failed", got["ConfigChannel/fleet-cfg"])
	require.Equal(t, "unreachable", got["ActivationKey/web"], "no write was attempted after the server stopped answering")
	require.Equal(t, "created", byServer(t, res, "outcome")[pname(sim.Peripherals()[1])]["ConfigChannel/fleet-cfg"])

	require.NoError(t, p1.ClearFaults())
	resetCalls(sim)
	res = planOrApply(t, g, token, "apply", bundle, "all")
	got = byServer(t, res, "outcome")[pname(p1)]
	require.Equal(t, "updated", got["ConfigChannel/fleet-cfg"], "the channel was there: only its files were written")
	require.Equal(t, "created", got["ActivationKey/web"])
	require.NotContains(t, writes(p1), "configchannel.create")
	require.Empty(t, writes(sim.Peripherals()[1]))

	lonely := `apiVersion: hubgw/v1
kind: ActivationKey
metadata: {name: lonely}
spec: {baseChannel: nowhere-base}
`
	plan := planOrApply(t, g, token, "plan", lonely, "all")
	o := object(t, plan, pname(p1), "ActivationKey/lonely")
	require.Equal(t, "blocked", o["action"])
	require.Contains(t, o["reason"], "SoftwareChannel nowhere-base, which is missing on this server and not in the documents")
}

// TestDesiredDeployAlways: deploy: always deploys on every apply, changed
// or not; never does not deploy even when files change.
func TestDesiredDeployAlways(t *testing.T) {
	sim, g, token := desiredRig(t, uyunisim.Config{Peripherals: 1})
	doc := func(deploy, content string) string {
		return `apiVersion: hubgw/v1
kind: ConfigChannel
metadata: {name: cfg}
spec: {name: cfg, deploy: ` + deploy + `, files: [{path: /etc/x, content: "` + content + `"}]}
`
	}
	p := sim.Peripherals()[0]
	planOrApply(t, g, token, "apply", doc("never", "a"), "all")
	require.Equal(t, []string{"configchannel.create", "configchannel.createOrUpdatePath"}, writes(p))
	resetCalls(sim)
	res := planOrApply(t, g, token, "apply", doc("always", "a"), "all")
	require.Equal(t, "unchanged", byServer(t, res, "outcome")[pname(p)]["ConfigChannel/cfg"])
	require.Equal(t, []string{"configchannel.deployAllSystems"}, writes(p))
}

// TestDesiredChannelDrift: only the changed setDetails keys are sent (an
// older server refuses keys it does not know), and a repository's URL is
// put back.
func TestDesiredChannelDrift(t *testing.T) {
	sim, g, token := desiredRig(t, uyunisim.Config{Peripherals: 2})
	planOrApply(t, g, token, "apply", bundle, "all")
	p := sim.Peripherals()[1]
	require.NoError(t, p.ChangeObject(uyunisim.ObjectChange{Kind: "channel", Label: "fleet-base", Set: map[string]any{"description": "changed", "gpg_key_id": "FFFF0000"}}))
	require.NoError(t, p.ChangeObject(uyunisim.ObjectChange{Kind: "repo", Label: "fleet-tools-repo", Set: map[string]any{"url": "https://elsewhere.example.org/"}}))

	plan := planOrApply(t, g, token, "plan", bundle, "all")
	var fields []string
	for _, c := range object(t, plan, pname(p), "SoftwareChannel/fleet-base")["changes"].([]any) {
		fields = append(fields, c.(map[string]any)["field"].(string))
	}
	require.Equal(t, []string{"description", "gpg.id"}, fields)
	require.Equal(t, "update", object(t, plan, pname(p), "SoftwareChannel/fleet-tools")["action"])
	require.Equal(t, "noop", object(t, plan, pname(sim.Peripherals()[0]), "SoftwareChannel/fleet-base")["action"])

	resetCalls(sim)
	planOrApply(t, g, token, "apply", bundle, "all")
	require.Equal(t, []string{"channel.software.setDetails", "channel.software.updateRepoUrl"}, writes(p))
	for _, c := range p.Calls() {
		if c.Method == "channel.software.setDetails" {
			require.Equal(t, map[string]any{"description": "the fleet's base channel", "gpg_key_id": "ABCD1234"}, c.Params[2].(rpc.Struct).Map())
		}
	}
	require.Empty(t, writes(sim.Peripherals()[0]))
	ch := findChannel(t, p.Objects(), "fleet-base")
	require.Equal(t, "ABCD1234", ch.GPGID)
}

// A channel Hub Online Sync keeps on a peripheral has two writers: the
// plan says conflict there (the hub's sync.hub.listPeripheralChannelsToSync
// lists it), the apply writes nothing to it, other peripherals get it, and
// spec.ignoreHubSync overrides.
func TestDesiredHubSyncedChannel(t *testing.T) {
	sim, g, token := desiredRig(t, uyunisim.Config{Peripherals: 2})
	ps := sim.Peripherals()
	const base = `apiVersion: hubgw/v1
kind: SoftwareChannel
metadata: {name: synced-base}
spec: {name: Synced Base, summary: base, arch: channel-x86_64%s}
`
	r := rest(t, g, http.MethodPost, "/api/v1/hub/channel/software/create", token,
		map[string]any{"label": "synced-base", "name": "Synced Base", "summary": "base", "archLabel": "channel-x86_64", "parentLabel": ""})
	require.Equal(t, http.StatusOK, r.Status, "%s", r.Body)
	r = rest(t, g, http.MethodPost, "/api/v1/hub/sync/hub/addPeripheralChannelsToSync", token,
		map[string]any{"fqdn": ps[0].FQDN(), "channelLabels": []string{"synced-base"}})
	require.Equal(t, http.StatusOK, r.Status, "%s", r.Body)

	plan := planOrApply(t, g, token, "plan", strings.ReplaceAll(base, "%s", ""), "all")
	synced := object(t, plan, pname(ps[0]), "SoftwareChannel/synced-base")
	require.Equal(t, "conflict", synced["action"])
	require.Contains(t, synced["reason"], "managed by hub sync")
	require.Equal(t, "create", object(t, plan, pname(ps[1]), "SoftwareChannel/synced-base")["action"])

	resetCalls(sim)
	res := planOrApply(t, g, token, "apply", strings.ReplaceAll(base, "%s", ""), "all")
	require.Equal(t, "conflict", object(t, res, pname(ps[0]), "SoftwareChannel/synced-base")["outcome"])
	require.Empty(t, writes(ps[0]), "nothing written where the hub's sync writes")
	require.Equal(t, "created", object(t, res, pname(ps[1]), "SoftwareChannel/synced-base")["outcome"])

	res = planOrApply(t, g, token, "apply", strings.ReplaceAll(base, "%s", ", ignoreHubSync: true"), pname(ps[0]))
	require.Equal(t, "created", object(t, res, pname(ps[0]), "SoftwareChannel/synced-base")["outcome"])
}

// A repository whose URL the server already has under another label
// (Uyuni keeps one per URL: fault 1, "please reuse it") is a conflict
// naming that label, not a bare failure.
func TestDesiredRepoURLTaken(t *testing.T) {
	sim, g, token := desiredRig(t, uyunisim.Config{Peripherals: 2})
	p := sim.Peripherals()[0]
	r := rest(t, g, http.MethodPost, "/api/v1/peripherals/"+pname(p)+"/channel/software/createRepo", token,
		map[string]any{"label": "tools-mirror", "type": "yum", "url": "https://repo.example.org/tools"})
	require.Equal(t, http.StatusOK, r.Status, "%s", r.Body)

	res := planOrApply(t, g, token, "apply", bundle, "all")
	tools := object(t, res, pname(p), "SoftwareChannel/fleet-tools")
	require.Equal(t, "conflict", tools["outcome"], "%v", tools)
	require.Contains(t, tools["reason"], "already the repository tools-mirror on this server")
	require.Equal(t, json.Number("1"), tools["faultCode"])
	require.Equal(t, "created", object(t, res, pname(sim.Peripherals()[1]), "SoftwareChannel/fleet-tools")["outcome"])
}
