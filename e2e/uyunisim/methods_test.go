package uyunisim_test

import (
	"testing"
	"time"

	"github.com/hubgw/hubgw/e2e/uyunisim"
)

// softwareScript drives channel.software's changes, repositories and org
// sharing (issue 11, §2).
const softwareScript = `
call("channel.software.create", "base-chan", "Base Channel", "s", "channel-x86_64", "")
call("channel.software.create", "child-chan", "Child Channel", "s", "channel-x86_64", "base-chan")
cid = call("channel.software.getDetails", "base-chan")["id"]
out["exists"] = [call("channel.software.isExisting", "base-chan"), call("channel.software.isExisting", "nope")]
out["set_label"] = call("channel.software.setDetails", "base-chan", {"description": "the base", "gpg_check": "false", "gpg_key_id": "abcdef01"})
out["set_id"] = call("channel.software.setDetails", cid, {"summary": "new summary"})
d = call("channel.software.getDetails", "base-chan")
out["details"] = [d["description"], d["gpg_check"], d["gpg_key_id"], d["summary"]]
out["set_bad_key"] = call("channel.software.setDetails", "base-chan", {"arch_label": "channel-ia32"})
out["set_bool"] = call("channel.software.setDetails", "base-chan", {"gpg_check": True})
out["set_missing"] = call("channel.software.setDetails", "nope", {"arch_label": "x"})
out["contact"] = call("channel.software.setContactDetails", "base-chan", "Ann", "ann@example.org", "555", "support")
d = call("channel.software.getDetails", "base-chan")
out["contact_details"] = [d["maintainer_name"], d["maintainer_email"], d["maintainer_phone"], d["support_policy"]]
out["children"] = [c["label"] for c in call("channel.software.listChildren", "base-chan")]
out["delete_parent"] = call("channel.software.delete", "base-chan")

r = call("channel.software.createRepo", "repo-1", "YUM", "https://example.org/repo1")
out["repo"] = [r["label"], r["type"], r["sourceUrl"]]
out["repo_dup_label"] = call("channel.software.createRepo", "repo-1", "yum", "https://example.org/other")
out["repo_dup_url"] = call("channel.software.createRepo", "repo-2", "yum", "https://example.org/repo1")
out["repo_missing"] = call("channel.software.getRepoDetails", "nope")
out["associate"] = call("channel.software.associateRepo", "child-chan", "repo-1")["label"]
out["channel_repos"] = [x_["label"] for x_ in call("channel.software.listChannelRepos", "child-chan")]
out["user_repos"] = [[x_["label"], x_["sourceUrl"]] for x_ in call("channel.software.listUserRepos")]
out["update_url"] = call("channel.software.updateRepoUrl", "repo-1", "https://example.org/moved")["sourceUrl"]
out["sync_now"] = call("channel.software.syncRepo", "child-chan")
out["sync_cron"] = call("channel.software.syncRepo", "child-chan", "0 0 3 * * ?")
out["cron"] = call("channel.software.getRepoSyncCronExpression", "child-chan")
out["cron_none"] = call("channel.software.getRepoSyncCronExpression", "base-chan")
out["disassociate"] = len(call("channel.software.disassociateRepo", "child-chan", "repo-1")["contentSources"])
out["remove_repo"] = [call("channel.software.removeRepo", "repo-1"), call("channel.software.getRepoDetails", "repo-1")["fault"]]
out["sharing"] = [call("channel.access.getOrgSharing", "child-chan"), call("channel.access.setOrgSharing", "child-chan", "public"),
                  call("channel.access.getOrgSharing", "child-chan")]
out["sharing_bad"] = call("channel.access.setOrgSharing", "child-chan", "everyone")
out["delete"] = [call("channel.software.delete", "child-chan"), call("channel.software.isExisting", "child-chan")]
`

func TestSoftwareChannelMethods(t *testing.T) {
	sim := start(t, uyunisim.Config{Peripherals: 1})
	got := runPython(t, softwareScript, sim.Peripherals()[0].URL())
	wantJSON(t, got, map[string]string{
		"exists":          `[true, false]`,
		"set_label":       `1`,
		"set_id":          `1`,
		"details":         `["the base", false, "ABCDEF01", "new summary"]`,
		"set_bad_key":     fault(2801, "Invalid argument(s): arch_label"),
		"set_bool":        fault(-1, "unhandled internal exception: class java.lang.Boolean cannot be cast to class java.lang.String"),
		"set_missing":     fault(-210, "No such channel: nope"),
		"contact":         `1`,
		"contact_details": `["Ann", "ann@example.org", "555", "support"]`,
		"children":        `["child-chan"]`,
		"delete_parent":   fault(1234, "This channel has child channels associated with it.  You must delete those channels first before deleting the parent."),
		"repo":            `["repo-1", "yum", "https://example.org/repo1"]`,
		"repo_dup_label":  fault(2, "The repository label 'repo-1' is already in use, please choose a different label"),
		"repo_dup_url":    fault(1, "There's already a defined repository with given url, please reuse it."),
		"repo_missing":    fault(1213, "No such repository: nope"),
		"associate":       `"child-chan"`,
		"channel_repos":   `["repo-1"]`,
		"user_repos":      `[["repo-1", "https://example.org/repo1"]]`,
		"update_url":      `"https://example.org/moved"`,
		"sync_now":        `1`,
		"sync_cron":       `1`,
		"cron":            `"0 0 3 * * ?"`,
		"cron_none":       `""`,
		"disassociate":    `0`,
		"remove_repo":     `[1, 1213]`,
		"sharing":         `["private", 1, "public"]`,
		"sharing_bad":     fault(1064, "Invalid access value 'everyone' provided."),
		"delete":          `[1, false]`,
	})
}

// configScript drives configchannel's reads and changes, system.config and
// the schedule (issue 11, §2). Actions settle at once (ActionDelay 0) and
// fail everywhere (ActionFailure 1).
const configScript = `
out["create5"] = call("configchannel.create", "st-five", "Five", "d", "state", {"contents": b64("a: 1\n"), "contents_enc64": True})["label"]
out["init5"] = call("configchannel.lookupFileInfo", "st-five", ["/init.sls"])[0]["contents"]
c = call("configchannel.create", "cfg", "Config", "d", "normal")
out["details"] = [call("configchannel.getDetails", "cfg")["name"], call("configchannel.getDetails", c["id"])["label"]]
out["details_missing"] = [call("configchannel.getDetails", "nope"), call("configchannel.getDetails", 99999)]
out["update"] = call("configchannel.update", "cfg", "Config Two", "d2")["name"]
out["update_bad"] = call("configchannel.update", "cfg", "", "d2")["fault"]
call("configchannel.createOrUpdatePath", "cfg", "/etc/a", False, {"contents": "A", "owner": "root", "group": "root", "permissions": "644"})
call("configchannel.createOrUpdatePath", "cfg", "/etc/a", False, {"contents": "B", "owner": "root", "group": "root", "permissions": "644"})
call("configchannel.createOrUpdatePath", "cfg", "/etc/d", True, {"owner": "root", "group": "root", "permissions": "755"})
l = call("configchannel.createOrUpdateSymlink", "cfg", "/etc/l", {"target_path": "/etc/a"})
out["symlink"] = [l["type"], l["target_path"], "owner" in l]
out["files"] = [[f["type"], f["path"]] for f in call("configchannel.listFiles", "cfg")]
out["lookup_missing"] = call("configchannel.lookupFileInfo", "cfg", ["/etc/a", "/etc/none"])
out["lookup_rev"] = call("configchannel.lookupFileInfo", "cfg", "/etc/a", 1)["contents"]
out["revisions"] = [r["revision"] for r in call("configchannel.getFileRevisions", "cfg", "/etc/a")]
out["revision"] = call("configchannel.getFileRevision", "cfg", "/etc/a", 2)["contents"]
out["revision_missing"] = call("configchannel.getFileRevisions", "cfg", "/etc/none")
out["type_change"] = call("configchannel.createOrUpdatePath", "cfg", "/etc/a", True, {})["fault"]
out["old_revision"] = call("configchannel.createOrUpdatePath", "cfg", "/etc/a", False, {"contents": "C", "revision": 1})["fault"]
out["bad_key"] = call("configchannel.createOrUpdatePath", "cfg", "/etc/a", False, {"content": "C"})
out["delete_missing"] = call("configchannel.deleteFiles", "cfg", ["/etc/d", "/etc/none"])["fault"]
out["delete"] = [call("configchannel.deleteFiles", "cfg", ["/etc/d"]), len(call("configchannel.listFiles", "cfg"))]

sids = [x_["id"] for x_ in call("system.listSystems")]
out["add_channels"] = call("system.config.addChannels", sids[:2], ["cfg", "st-five"], False)
call("system.config.addChannels", [sids[0]], ["st-five"], True)
out["list_channels"] = [c["label"] for c in call("system.config.listChannels", sids[0])]
out["add_missing_system"] = call("system.config.addChannels", [1], ["cfg"], False)
out["subscribed"] = [x_["id"] for x_ in call("configchannel.listSubscribedSystems", "cfg")] == sids[:2]
aid = call("system.config.scheduleApplyConfigChannel", sids[:2], x.DateTime("20250101T00:00:00"), False)
out["apply_id"] = type(aid).__name__
acts = call("schedule.listAllActions")
out["actions"] = [[a["name"], a["type"], a["completedSystems"], a["failedSystems"], a["inProgressSystems"]] for a in acts]
out["failed_actions"] = [a["id"] == aid for a in call("schedule.listFailedActions")]
out["completed_actions"] = call("schedule.listCompletedActions")
out["in_progress"] = call("schedule.listInProgressActions")
out["failed_systems"] = sorted(x_["server_id"] for x_ in call("schedule.listFailedSystems", aid)) == sids[:2]
out["no_action"] = call("schedule.listCompletedSystems", 424242)
`

func TestConfigChannelMethods(t *testing.T) {
	sim := start(t, uyunisim.Config{Peripherals: 1, Systems: 3, Faults: uyunisim.Faults{ActionFailure: 1}})
	got := runPython(t, configScript, sim.Peripherals()[0].URL())
	wantJSON(t, got, map[string]string{
		"create5":            `"st-five"`,
		"init5":              `"a: 1\n"`,
		"details":            `["Config", "cfg"]`,
		"details_missing":    `[` + fault(-210, "No such channel: nope") + `,` + fault(-1, "unhandled internal exception: Could not find config channel with id=99999") + `]`,
		"update":             `"Config Two"`,
		"update_bad":         `1021`,
		"symlink":            `["symlink", "/etc/a", false]`,
		"files":              `[["file", "/etc/a"], ["directory", "/etc/d"], ["symlink", "/etc/l"]]`,
		"lookup_missing":     fault(-1029, "No such configuration file path: /etc/none in config channel: cfg"),
		"lookup_rev":         `"A"`,
		"revisions":          `[1, 2]`,
		"revision":           `"B"`,
		"revision_missing":   fault(1022, "Could not find configuration file with filePath=: /etc/none"),
		"type_change":        `1023`,
		"old_revision":       `1023`,
		"bad_key":            fault(2801, "Invalid argument(s): content"),
		"delete_missing":     `-1029`,
		"delete":             `[1, 2]`,
		"add_channels":       `1`,
		"list_channels":      `["st-five", "cfg"]`,
		"add_missing_system": fault(-208, "No such system - sid = 1"),
		"subscribed":         `true`,
		"apply_id":           `"int"`,
		"actions":            `[["Apply states [custom]", "Apply states", 0, 2, 0]]`,
		"failed_actions":     `[true]`,
		"completed_actions":  `[]`,
		"in_progress":        `[]`,
		"failed_systems":     `true`,
		"no_action":          fault(-1, "unhandled internal exception: Could not find action with id: 424242"),
	})
}

// keyScript drives activationkey's remaining methods, systemgroup and
// user.getDetails (issue 11, §2).
const keyScript = `
call("channel.software.create", "base-chan", "Base Channel", "s", "channel-x86_64", "")
call("channel.software.create", "child-chan", "Child Channel", "s", "channel-x86_64", "base-chan")
for label in ["cfg-a", "cfg-b"]:
    call("configchannel.create", label, label, "d")
out["limited"] = call("activationkey.create", "lim", "d", "base-chan", 0, [], True)
d = call("activationkey.getDetails", "2-lim")
out["limit_zero"] = [d["usage_limit"], d["universal_default"]]
out["limit_negative"] = call("activationkey.create", "neg", "d", "", -1, [], False)["fault"]
out["set"] = call("activationkey.setDetails", "2-lim", {"description": "(new)", "usage_limit": 7, "disabled": True, "contact_method": "ssh-push"})
d = call("activationkey.getDetails", "2-lim")
out["after_set"] = [d["description"], d["usage_limit"], d["disabled"], d["contact_method"]]
out["set_unlimited"] = [call("activationkey.setDetails", "2-lim", {"unlimited_usage_limit": True}), call("activationkey.getDetails", "2-lim")["usage_limit"]]
out["set_bad_key"] = call("activationkey.setDetails", "2-lim", {"base_channel": "x", "colour": "red"})
out["set_bad_contact"] = call("activationkey.setDetails", "2-lim", {"contact_method": "pigeon"})
call("activationkey.addChildChannels", "2-lim", ["child-chan"])
out["remove_children"] = [call("activationkey.removeChildChannels", "2-lim", ["child-chan"]), call("activationkey.getDetails", "2-lim")["child_channel_labels"]]
call("activationkey.addEntitlements", "2-lim", ["virtualization_host", "monitoring_entitled"])
call("activationkey.removeEntitlements", "2-lim", ["monitoring_entitled"])
out["entitlements"] = call("activationkey.getDetails", "2-lim")["entitlements"]
out["bad_entitlement"] = call("activationkey.addEntitlements", "2-lim", ["golden"])
call("activationkey.addPackages", "2-lim", [{"name": "vim"}, {"name": "emacs", "arch": "x86_64"}])
call("activationkey.removePackages", "2-lim", [{"name": "vim"}])
d = call("activationkey.getDetails", "2-lim")
out["packages"] = [d["package_names"], d["packages"]]
out["package_space"] = call("activationkey.addPackages", "2-lim", [{"name": "vim emacs"}])
out["package_key"] = call("activationkey.addPackages", "2-lim", [{"name": "vim", "version": "1"}])

g = call("systemgroup.create", "web", "")
out["group"] = [g["name"], g["description"], g["org_id"], g["system_count"]]
out["group_dup"] = call("systemgroup.create", "web", "x")["fault"]
out["group_details"] = [call("systemgroup.getDetails", "web")["id"] == g["id"], call("systemgroup.getDetails", g["id"])["name"]]
out["group_missing"] = call("systemgroup.getDetails", "nope")
out["group_update"] = call("systemgroup.update", "web", "Web servers")["description"]
out["groups"] = [x_["name"] for x_ in call("systemgroup.listAllGroups")]
call("activationkey.addServerGroups", "2-lim", [g["id"]])
out["key_groups"] = call("activationkey.getDetails", "2-lim")["server_group_ids"] == [g["id"]]
out["bad_group"] = call("activationkey.removeServerGroups", "2-lim", [99999])
out["group_cfg"] = [call("systemgroup.subscribeConfigChannel", "web", ["cfg-b", "cfg-a"]),
                    [c["label"] for c in call("systemgroup.listAssignedConfigChannels", "web")]]
out["group_cfg_missing"] = call("systemgroup.subscribeConfigChannel", "web", ["nope"])
out["group_delete"] = [call("systemgroup.delete", "web"), call("activationkey.getDetails", "2-lim")["server_group_ids"]]

call("activationkey.setConfigChannels", ["2-lim"], ["cfg-b", "cfg-a"])
out["set_cfg"] = [c["label"] for c in call("activationkey.listConfigChannels", "2-lim")]
call("activationkey.removeConfigChannels", ["2-lim"], ["cfg-b"])
out["remove_cfg"] = [c["label"] for c in call("activationkey.listConfigChannels", "2-lim")]
out["deploy"] = [call("activationkey.checkConfigDeployment", "2-lim"), call("activationkey.enableConfigDeployment", "2-lim"),
                 call("activationkey.checkConfigDeployment", "2-lim"), call("activationkey.disableConfigDeployment", "2-lim"),
                 call("activationkey.checkConfigDeployment", "2-lim")]
u = call("user.getDetails", "admin")
out["user"] = [u["org_id"], u["org_name"]]
out["user_missing"] = call("user.getDetails", "nobody")["fault"]
out["delete"] = [call("activationkey.delete", "2-lim"), call("activationkey.delete", "2-lim")["fault"]]
`

func TestActivationKeyAndGroupMethods(t *testing.T) {
	sim := start(t, uyunisim.Config{Peripherals: 2})
	got := runPython(t, keyScript, sim.Peripherals()[1].URL())
	wantJSON(t, got, map[string]string{
		"limited":           `"2-lim"`,
		"limit_zero":        `[0, true]`,
		"limit_negative":    `2800`,
		"set":               `1`,
		"after_set":         `["new", 7, true, "ssh-push"]`,
		"set_unlimited":     `[1, 0]`,
		"set_bad_key":       fault(2801, "Invalid argument(s): base_channel, colour"),
		"set_bad_contact":   fault(-1, "Invalid contact method: pigeon"),
		"remove_children":   `[1, []]`,
		"entitlements":      `["virtualization_host"]`,
		"bad_entitlement":   fault(-1, "unhandled internal exception: ERRORS:\nInvalid add-on entitlement [golden] provided. No such entitlement exists.\n"),
		"packages":          `[["emacs"], [{"name": "emacs", "arch": "x86_64"}]]`,
		"package_space":     fault(2801, "Invalid argument(s): More than one package names are specified."),
		"package_key":       fault(2801, "Invalid argument(s): version"),
		"group":             `["web", "none", 2, 0]`,
		"group_dup":         `-1`,
		"group_details":     `[true, "web"]`,
		"group_missing":     fault(2201, `Unable to locate or access server group: "nope"`),
		"group_update":      `"Web servers"`,
		"groups":            `["web"]`,
		"key_groups":        `true`,
		"bad_group":         fault(2200, "Invalid server group"),
		"group_cfg":         `[1, ["cfg-b", "cfg-a"]]`,
		"group_cfg_missing": fault(-210, "No such channel: nope"),
		"group_delete":      `[1, []]`,
		"set_cfg":           `["cfg-b", "cfg-a"]`,
		"remove_cfg":        `["cfg-a"]`,
		"deploy":            `[0, 1, 1, 1, 0]`,
		"user":              `[2, "Organization 2"]`,
		"user_missing":      `-213`,
		"delete":            `[1, -212]`,
	})
}

// TestActionClock: actions stay queued until ActionDelay after their
// earliest date, then complete or fail per the server's ActionFailure; the
// cached answers of the schedule reads follow.
func TestActionClock(t *testing.T) {
	clk := &clock{t: time.Date(2025, 1, 2, 3, 4, 5, 0, time.Local)}
	cfg := uyunisim.Config{Peripherals: 2, Systems: 4, ActionDelay: time.Minute,
		ServerFaults: map[string]uyunisim.Faults{"peripheral-2": {ActionFailure: 0.5}}}
	uyunisim.SetClock(&cfg, clk.now)
	sim := start(t, cfg)
	p1 := dial(t, sim.Peripherals()[0].URL())
	k1 := login(t, p1)
	counts := func() [3]int64 {
		t.Helper()
		a := mustCall(t, p1, "schedule.listAllActions", k1).([]any)
		if len(a) != 1 {
			t.Fatalf("actions: %v", a)
		}
		m := a[0].(map[string]any)
		return [3]int64{m["inProgressSystems"].(int64), m["completedSystems"].(int64), m["failedSystems"].(int64)}
	}
	sids := []any{}
	for _, s := range mustCall(t, p1, "system.listSystems", k1).([]any) {
		sids = append(sids, s.(map[string]any)["id"])
	}
	aid := mustCall(t, p1, "system.config.scheduleApplyConfigChannel", k1, sids, clk.now(), false)
	if got := counts(); got != [3]int64{4, 0, 0} {
		t.Fatalf("queued: %v", got)
	}
	clk.advance(59 * time.Second)
	if got := counts(); got != [3]int64{4, 0, 0} {
		t.Fatalf("before the delay: %v", got)
	}
	clk.advance(time.Second)
	if got := counts(); got != [3]int64{0, 4, 0} {
		t.Fatalf("after the delay: %v", got)
	}
	if got := mustCall(t, p1, "schedule.listCompletedSystems", k1, aid).([]any); len(got) != 4 {
		t.Errorf("completed systems: %v", got)
	}

	// peripheral-2 fails about half, the same ones every time.
	p2 := dial(t, sim.Peripherals()[1].URL())
	k2 := login(t, p2)
	var ids []any
	for range 20 {
		ids = append(ids, mustCall(t, p2, "system.config.scheduleApplyConfigChannel", k2, sids[:1], clk.now(), false))
	}
	clk.advance(time.Minute)
	failed := len(mustCall(t, p2, "schedule.listFailedActions", k2).([]any))
	completed := len(mustCall(t, p2, "schedule.listCompletedActions", k2).([]any))
	if failed+completed != 20 || failed < 3 || completed < 3 {
		t.Errorf("peripheral-2: %d failed, %d completed of 20", failed, completed)
	}
	if len(mustCall(t, p2, "schedule.listFailedSystems", k2, ids[0]).([]any))+
		len(mustCall(t, p2, "schedule.listCompletedSystems", k2, ids[0]).([]any)) != 1 {
		t.Error("an action's system is neither failed nor completed")
	}
}
