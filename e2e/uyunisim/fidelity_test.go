package uyunisim_test

import (
	"testing"
	"time"

	"github.com/hubgw/hubgw/e2e/uyunisim"
)

// fidelityScript drives each row of the fidelity table (issue 11, §1) on
// peripheral-3, whose admin is in org 3.
const fidelityScript = `
call("channel.software.create", "base-chan", "Base Channel", "s", "channel-x86_64", "")
call("channel.software.create", "child-chan", "Child Channel", "s", "channel-x86_64", "base-chan")
call("channel.software.create", "other-base", "Other Base", "s", "channel-x86_64", "")
call("channel.software.create", "other-child", "Other Child", "s", "channel-x86_64", "other-base")

# Activation keys: the org prefix, Scrubber, "None", -212, 1091, -211.
out["org_id"] = call("user.getDetails", "admin")["org_id"]
out["key_scrubbed"] = call("activationkey.create", "web (x) <y>", "  desc {z} ", "", [], False)
out["desc_scrubbed"] = call("activationkey.getDetails", "3-webxy")["description"]
out["key_none"] = call("activationkey.create", "plain", "", "", [], False)
out["desc_none"] = call("activationkey.getDetails", "3-plain")["description"]
out["key_comma"] = call("activationkey.create", "a,b", "d", "", [], False)
out["key_dup"] = call("activationkey.create", "plain", "d", "", [], False)
out["key_missing_details"] = call("activationkey.getDetails", "3-nope")
out["key_missing_add"] = call("activationkey.addChildChannels", "3-nope", ["child-chan"])
out["key_missing_set"] = call("activationkey.setDetails", "3-nope", {"description": "x"})
out["key_missing_base"] = call("activationkey.create", "k2", "d", "no-such-base", [], False)
out["key_child_base"] = call("activationkey.create", "k2", "d", "child-chan", [], False)
call("activationkey.create", "based", "d", "base-chan", [], False)
out["key_missing_child"] = call("activationkey.addChildChannels", "3-based", ["no-such-child"])
out["key_foreign_child"] = call("activationkey.addChildChannels", "3-based", ["other-child"])
call("activationkey.addChildChannels", "3-based", ["child-chan"])
out["children_before"] = call("activationkey.getDetails", "3-based")["child_channel_labels"]
call("activationkey.setDetails", "3-based", {"base_channel_label": "other-base"})
d = call("activationkey.getDetails", "3-based")
out["base_change"] = [d["base_channel_label"], d["child_channel_labels"]]

# Config channels of keys: -210, re-ranking.
for label in ["cfg-a", "cfg-b", "cfg-c"]:
    call("configchannel.create", label, label.upper(), "d")
out["add_cfg_missing"] = call("activationkey.addConfigChannels", ["3-plain"], ["no-such-cfg"], False)
call("activationkey.addConfigChannels", ["3-plain"], ["cfg-a", "cfg-b", "cfg-c"], False)
call("activationkey.addConfigChannels", ["3-plain"], ["cfg-c"], True)
out["cfg_reranked"] = [c["label"] for c in call("activationkey.listConfigChannels", "3-plain")]

# Config channel labels and lookups.
out["cfg_dot"] = call("configchannel.create", "a.b", "Dotted", "d")
out["cfg_dash"] = call("configchannel.create", "-lead", "Dash", "d")
out["cfg_nodesc"] = call("configchannel.create", "nodesc", "No description", "")
out["cfg_path_missing"] = call("configchannel.createOrUpdatePath", "nope", "/etc/x", False, {"contents": "x"})
out["cfg_deploy_missing"] = call("configchannel.deployAllSystems", "nope")

# Revisions: always a new one; the struct names the channel by name and
# pads permissions_mode; plain strings lose the final newline, base64 keeps it.
r1 = call("configchannel.createOrUpdatePath", "cfg-a", "/etc/motd", False,
          {"contents": "hello\n", "owner": "root", "group": "root", "permissions": "0070"})
r2 = call("configchannel.createOrUpdatePath", "cfg-a", "/etc/motd", False,
          {"contents": "hello\n", "owner": "root", "group": "root", "permissions": "0070"})
out["revisions"] = [r1["revision"], r2["revision"], r2["channel"], r2["permissions_mode"], r2["permissions"]]
out["plain_newline"] = [r2["contents"], r2["sha256"] == sha("hello")]
r3 = call("configchannel.createOrUpdatePath", "cfg-a", "/etc/motd", False,
          {"contents": b64("hello\n"), "contents_enc64": True, "owner": "root", "group": "root", "permissions": "644"})
info = call("configchannel.lookupFileInfo", "cfg-a", ["/etc/motd"])[0]
out["base64_newline"] = [r3["revision"], info["contents"], info["contents_enc64"], info["sha256"] == sha("hello\n")]

# State channels.
st = call("configchannel.create", "salt-st", "Salt State", "d", "state")
out["state_files"] = [[f["type"], f["path"]] for f in call("configchannel.listFiles", "salt-st")]
out["state_init"] = call("configchannel.lookupFileInfo", "salt-st", ["/init.sls"])[0]["contents"]
out["state_dir"] = call("configchannel.createOrUpdatePath", "salt-st", "/srv", True, {})
out["state_init_path"] = call("configchannel.createOrUpdatePath", "salt-st", "/init.sls", False, {"contents": "x"})
out["state_deploy"] = call("configchannel.deployAllSystems", "salt-st")
out["state_symlink"] = call("configchannel.createOrUpdateSymlink", "salt-st", "/l", {"target_path": "/t"})
u = call("configchannel.updateInitSls", "salt-st", {"contents": b64("pkg.installed: []\n"), "contents_enc64": True})
out["state_update"] = [u["revision"], u["type"], u["contents"]]

# deployAllSystems schedules a deploy action for each subscribed system,
# dated as given.
sids = [sys_["id"] for sys_ in call("system.listSystems")][:2]
call("system.config.addChannels", sids, ["cfg-a"], False)
out["deploy"] = call("configchannel.deployAllSystems", "cfg-a", x.DateTime("20300101T10:00:00"))
acts = call("schedule.listAllActions")
out["deploy_action"] = [[a["name"], a["type"], a["inProgressSystems"], str(a["earliest"])] for a in acts]
out["deploy_systems"] = len(call("schedule.listInProgressSystems", acts[0]["id"]))
out["deploy_unknown_path"] = call("configchannel.deployAllSystems", "cfg-a", "/etc/none")
`

// TestFidelity: each row of the fidelity table, through Python's client.
func TestFidelity(t *testing.T) {
	sim := start(t, uyunisim.Config{Peripherals: 3, Systems: 3, ActionDelay: time.Hour})
	got := runPython(t, fidelityScript, sim.Peripherals()[2].URL())
	wantJSON(t, got, map[string]string{
		"org_id":              `3`,
		"key_scrubbed":        `"3-webxy"`,
		"desc_scrubbed":       `"desc z"`,
		"key_none":            `"3-plain"`,
		"desc_none":           `"None"`,
		"key_comma":           fault(1091, `Activation key label <strong>3-a,b</strong> has one or more of the following invalid characters <strong>[, "]</strong>. Please remove these characters from the label.`),
		"key_dup":             fault(1091, "An activation key with label '3-plain' is already taken. Please choose a different label."),
		"key_missing_details": fault(-212, "Activation Key [3-nope] Not Found!"),
		"key_missing_add":     fault(-212, "Activation Key [3-nope] Not Found!"),
		"key_missing_set":     fault(-212, "Activation Key [3-nope] Not Found!"),
		"key_missing_base":    fault(-211, "Invalid channel"),
		"key_child_base":      fault(-211, "Child Channel is not a base channel."),
		"key_missing_child":   fault(-211, "Invalid channel"),
		"key_foreign_child":   fault(-211, "Other Child is not a child channel of parent Base Channel which is already used by this key"),
		"children_before":     `["child-chan"]`,
		"base_change":         `["other-base", []]`,
		"add_cfg_missing":     fault(-210, "No such channel: no-such-cfg"),
		"cfg_reranked":        `["cfg-c", "cfg-a", "cfg-b"]`,
		"cfg_dot": fault(1021, "Exception encountered during channel creation.\nERRORS:\n"+
			"Configuration channel label contains invalid characters. In addition to alphanumeric characters, '-' and '_' are allowed.\n"),
		"cfg_dash": fault(1021, "Exception encountered during channel creation.\nERRORS:\n"+
			"Configuration channel label contains invalid characters. In addition to alphanumeric characters, '-' and '_' are allowed.\n"),
		"cfg_nodesc":          fault(1021, "Exception encountered during channel creation.\nERRORS:\nConfiguration channel description is required.\n"),
		"cfg_path_missing":    fault(-210, "No such channel: nope"),
		"cfg_deploy_missing":  fault(-210, "No such channel: nope"),
		"revisions":           `[1, 2, "CFG-A", "070", 70]`,
		"plain_newline":       `["hello", true]`,
		"base64_newline":      `[3, "hello\n", false, true]`,
		"state_files":         `[["sls", "/init.sls"]]`,
		"state_init":          `""`,
		"state_dir":           fault(1233, "Directories/Symlinks are not supported in state channel."),
		"state_init_path":     fault(1213, "Please use 'updateInitSls' method for updating init.sls file."),
		"state_deploy":        fault(1213, "State channels can be applied through system.config.scheduleApplyConfigChannel method or from UI."),
		"state_symlink":       fault(1233, "Directories/Symlinks are not supported in state channel."),
		"state_update":        `[2, "sls", "pkg.installed: []\n"]`,
		"deploy":              `1`,
		"deploy_action":       `[["Deploy config files to system", "Deploy config files to system", 1, "20300101T10:00:00"], ["Deploy config files to system", "Deploy config files to system", 1, "20300101T10:00:00"]]`,
		"deploy_systems":      `1`,
		"deploy_unknown_path": fault(-1, "unhandled internal exception: null"),
	})
}
