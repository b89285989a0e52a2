package uyunisim_test

import (
	"strings"
	"testing"
	"time"

	"github.com/hubgw/hubgw/e2e/uyunisim"
)

const (
	lookupFault = "com.redhat.rhn.common.hibernate.LookupException: Could not find session with id: "
	userImpl    = "com.redhat.rhn.domain.user.legacy.UserImpl"
)

func TestLogin(t *testing.T) {
	sim := start(t, uyunisim.Config{User: "root", Password: "s3cret"})
	c := dial(t, sim.Hub().URL())
	tests := []struct {
		name    string
		args    []any
		wantErr string
	}{
		{"right", []any{"root", "s3cret"}, ""},
		{"trimmed", []any{" root\n", "s3cret\n"}, ""},
		{"with duration", []any{"root", "s3cret", 60}, ""},
		{"wrong password", []any{"root", "nope"}, "Fault(2950): redstone.xmlrpc.XmlRpcFault: Either the password or username is incorrect."},
		{"wrong user", []any{"admin", "s3cret"}, "Fault(2950): redstone.xmlrpc.XmlRpcFault: Either the password or username is incorrect."},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out, err := call(c, "auth.login", tt.args...)
			if tt.wantErr != "" {
				if err == nil || err.Error() != tt.wantErr {
					t.Fatalf("error = %v, want %s", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if key, _ := out.(string); !keyRe.MatchString(key) {
				t.Fatalf("key %q does not look like Uyuni's", key)
			}
		})
	}
}

func TestSessionKeys(t *testing.T) {
	sim := start(t, uyunisim.Config{})
	c := dial(t, sim.Hub().URL())
	key := login(t, c)
	id := key[:strings.IndexByte(key, 'x')]
	otherHash := id + "x" + strings.Repeat("ab", 32)
	tests := []struct {
		name, key, wantErr string
	}{
		{"valid", key, ""},
		{"spacecmd newline", key + "\n", ""},
		{"unknown id", "1x" + strings.Repeat("0", 64), "Fault(-1): " + lookupFault + "1"},
		{"wrong hash", otherHash, "Fault(-1): com.redhat.rhn.domain.session.InvalidSessionIdException: Session id: " + id + " is not valid."},
		{"not a key", "garbage", "Fault(-1): com.redhat.rhn.common.translation.TranslationException: " +
			"Could not find translator for class java.lang.String to interface com.redhat.rhn.domain.user.User"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := call(c, "user.listAssignableRoles", tt.key)
			if tt.wantErr == "" && err != nil {
				t.Fatal(err)
			}
			if tt.wantErr != "" && (err == nil || err.Error() != tt.wantErr) {
				t.Fatalf("error = %v, want %s", err, tt.wantErr)
			}
		})
	}

	t.Run("key of another server", func(t *testing.T) {
		p := start(t, uyunisim.Config{Peripherals: 1}).Peripherals()[0]
		_, err := call(dial(t, p.URL()), "system.listSystems", key)
		if err == nil || !(contains(err.Error(), "LookupException") || contains(err.Error(), "InvalidSessionIdException")) {
			t.Fatalf("error = %v, want a session fault", err)
		}
	})
	t.Run("logout", func(t *testing.T) {
		k := login(t, c)
		if got := mustCall(t, c, "auth.logout", k); got != int64(1) {
			t.Fatalf("logout = %v, want 1", got)
		}
		kid := k[:strings.IndexByte(k, 'x')]
		_, err := call(c, "system.listSystems", k)
		wantFault(t, err, -1, lookupFault+kid)
		// AuthHandler looks the key up itself: its fault goes through the ExceptionTranslator.
		_, err = call(c, "auth.logout", k)
		wantFault(t, err, -1, "redstone.xmlrpc.XmlRpcFault: unhandled internal exception: Could not find session with id: "+kid)
	})
	t.Run("expired", func(t *testing.T) {
		k := login(t, c)
		sim.Hub().ExpireSessions()
		_, err := call(c, "system.listSystems", k)
		wantFault(t, err, -1, lookupFault+k[:strings.IndexByte(k, 'x')])
	})
}

func TestSessionLifetime(t *testing.T) {
	clk := &clock{t: time.Date(2025, 1, 2, 3, 4, 5, 0, time.Local)}
	cfg := uyunisim.Config{SessionTTL: time.Hour}
	uyunisim.SetClock(&cfg, clk.now)
	sim := start(t, cfg)
	c := dial(t, sim.Hub().URL())

	key := login(t, c)
	for range 3 { // every call extends the session by the lifetime
		clk.advance(59 * time.Minute)
		mustCall(t, c, "system.listSystems", key)
	}
	clk.advance(61 * time.Minute)
	_, err := call(c, "system.listSystems", key)
	wantFault(t, err, -1, lookupFault+key[:strings.IndexByte(key, 'x')])

	short, _ := call(c, "auth.login", "admin", "admin", 10)
	clk.advance(9 * time.Second)
	mustCall(t, c, "system.listSystems", short) // extended to the full lifetime...
	clk.advance(30 * time.Minute)
	mustCall(t, c, "system.listSystems", short) // ...as Uyuni does
	clk.advance(61 * time.Minute)
	if _, err := call(c, "system.listSystems", short); err == nil {
		t.Fatal("session still alive after its lifetime")
	}
}

func TestDispatch(t *testing.T) {
	sim := start(t, uyunisim.Config{})
	c := dial(t, sim.Hub().URL())
	key := login(t, c)
	mustCall(t, c, "channel.software.create", key, "base-chan", "Base Channel", "s", "channel-x86_64", "")
	tests := []struct {
		name    string
		method  string
		args    []any
		wantErr string
		check   func(t *testing.T, v any)
	}{
		{name: "too many args", method: "system.listSystems", args: []any{key, 1},
			wantErr: "Fault(-1): redstone.xmlrpc.XmlRpcFault: Could not find method: listSystems in class: " +
				"com.redhat.rhn.frontend.xmlrpc.system.SystemHandler with params: [" + userImpl + ", java.lang.Integer]"},
		{name: "no args", method: "channel.software.create", args: []any{},
			wantErr: "Fault(-1): redstone.xmlrpc.XmlRpcFault: Could not find method: create in class: " +
				"com.redhat.rhn.frontend.xmlrpc.channel.software.ChannelSoftwareHandler with params: []"},
		{name: "param classes", method: "api.getVersion", args: []any{true, 1.5, map[string]any{}, []any{}, time.Now()},
			wantErr: "Fault(-1): redstone.xmlrpc.XmlRpcFault: Could not find method: getVersion in class: " +
				"com.redhat.rhn.frontend.xmlrpc.api.ApiHandler with params: [java.lang.Boolean, java.lang.Double, " +
				"redstone.xmlrpc.XmlRpcStruct, redstone.xmlrpc.XmlRpcArray, java.util.Date]"},
		{name: "unknown method", method: "system.noSuchThing", args: []any{key},
			wantErr: "Fault(-1): redstone.xmlrpc.XmlRpcFault: Could not find method: noSuchThing in class: " +
				"com.redhat.rhn.frontend.xmlrpc.system.SystemHandler with params: [" + userImpl + "]"},
		{name: "unknown namespace", method: "nosuch.thing", args: []any{key},
			wantErr: "Fault(-1): The specified handler cannot be found."},
		{name: "no namespace", method: "listSystems", wantErr: "Fault(-1): The specified handler cannot be found."},
		{name: "not simulated", method: "channel.software.clone", args: []any{key, "a", map[string]any{}, true},
			wantErr: "Fault(-1): redstone.xmlrpc.XmlRpcFault: uyunisim: channel.software.clone is in Uyuni's API but not simulated"},
		{name: "session checked before the method", method: "channel.software.clone", args: []any{"5x" + strings.Repeat("1", 64), "a", map[string]any{}, true},
			wantErr: "Fault(-1): " + lookupFault + "5"},
		{name: "overload by type: label", method: "channel.software.getDetails", args: []any{key, "base-chan"},
			check: func(t *testing.T, v any) {
				if v.(map[string]any)["name"] != "Base Channel" {
					t.Errorf("getDetails = %v", v)
				}
			}},
		{name: "overload by type: id", method: "channel.software.getDetails", args: []any{key, 424242},
			wantErr: "Fault(-210): redstone.xmlrpc.XmlRpcFault: No such channel with id: 424242"},
		{name: "int converted to string", method: "configchannel.channelExists", args: []any{key, 123},
			check: func(t *testing.T, v any) {
				if v != int64(0) {
					t.Errorf("channelExists = %v, want 0", v)
				}
			}},
		{name: "map converted to string", method: "configchannel.channelExists", args: []any{key, map[string]any{"a": "b"}},
			check: func(t *testing.T, v any) { // Translator.map2String: "{a=b}"
				if v != int64(0) {
					t.Errorf("channelExists = %v, want 0", v)
				}
			}},
		{name: "impossible conversion", method: "system.listFqdns", args: []any{key, "1000010001"},
			wantErr: "Fault(-1): com.redhat.rhn.common.translation.TranslationException: " +
				"Could not find translator for class java.lang.String to class java.lang.Integer"},
		{name: "beanified name", method: "system.list_systems", args: []any{key},
			check: func(t *testing.T, v any) {
				if len(v.([]any)) != 0 {
					t.Errorf("list_systems = %v", v)
				}
			}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			v, err := call(c, tt.method, tt.args...)
			if tt.wantErr != "" {
				if err == nil || err.Error() != tt.wantErr {
					t.Fatalf("error = %v\nwant    %s", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			tt.check(t, v)
		})
	}
}

func TestChannelSoftwareCreate(t *testing.T) {
	sim := start(t, uyunisim.Config{Peripherals: 1})
	c := dial(t, sim.Peripherals()[0].URL())
	key := login(t, c)
	mustCall(t, c, "channel.software.create", key, "base-x86", "Base x86", "s", "channel-x86_64", "")
	mustCall(t, c, "channel.software.create", key, "child-x86", "Child x86", "s", "channel-x86_64", "base-x86")

	ok := func(args ...any) []any { return append([]any{key}, args...) }
	tests := []struct {
		name    string
		args    []any
		code    int
		message string // after "redstone.xmlrpc.XmlRpcFault: "
	}{
		{"6 params", ok("chan-six", "Chan Six", "s", "channel-x86_64", ""), 0, ""},
		{"7 params", ok("chan-seven", "Chan Seven", "s", "channel-x86_64", "", "sha256"), 0, ""},
		{"8 params", ok("chan-eight", "Chan Eight", "s", "channel-x86_64", "", "sha256", map[string]any{"url": "http://x/key", "id": "abcdef01"}), 0, ""},
		{"9 params, spacecmd", ok("chan-nine", "Chan Nine", "s", "channel-x86_64", "base-x86", "sha256", map[string]any{}, true), 0, ""},
		{"same channel twice: name first", ok("base-x86", "Base x86", "s", "channel-x86_64", ""), 1200,
			"The channel name 'Base x86' is already in use, please enter a different name"},
		{"label in use", ok("base-x86", "Another Name", "s", "channel-x86_64", ""), 1201,
			"The channel label 'base-x86' is already in use, please enter a different label"},
		{"upper-case label", ok("Bad-Label", "Good Name", "s", "channel-x86_64", ""), 1201,
			"Invalid channel label, please see the format described below."},
		{"short label", ok("abc", "Good Name", "s", "channel-x86_64", ""), 1201, "Channel label must be at least 6 characters long."},
		{"empty label", ok("", "Good Name", "s", "channel-x86_64", ""), 1201, "Channel label is required."},
		{"short name", ok("good-label", "Abc", "s", "channel-x86_64", ""), 1200, "Channel name must be at least 6 characters long."},
		{"name starts with a digit", ok("good-label", "1 Name", "s", "channel-x86_64", ""), 1200,
			"Invalid channel name, please see the format described below."},
		{"no summary", ok("good-label", "Good Name", "", "channel-x86_64", ""), -1,
			"unhandled internal exception: edit.channel.invalidchannelsummary"},
		{"unknown arch", ok("good-label", "Good Name", "s", "x86_64", ""), -1, "unhandled internal exception: Invalid architecture label"},
		{"unknown checksum", ok("good-label", "Good Name", "s", "channel-x86_64", "", "md4"), 1210, "Invalid checksum label"},
		{"unknown parent", ok("good-label", "Good Name", "s", "channel-x86_64", "nope-parent"), -1,
			"unhandled internal exception: Invalid Parent Channel lbl"},
		{"parent is a child", ok("good-label", "Good Name", "s", "channel-x86_64", "child-x86"), 1202, "Invalid parent channel"},
		{"parent of another arch", ok("good-label", "Good Name", "s", "channel-aarch64", "base-x86"), -1,
			"unhandled internal exception: Incompatible parent and child channel architectures"},
		{"bad gpg id", ok("good-label", "Good Name", "s", "channel-x86_64", "", "sha256", map[string]any{"id": "xyz"}), 1208, "Invalid GPG key"},
		{"bad gpg url", ok("good-label", "Good Name", "s", "channel-x86_64", "", "sha256", map[string]any{"url": "ftp://x"}), 1207, "Invalid GPG URL"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			v, err := call(c, "channel.software.create", tt.args...)
			if tt.code == 0 {
				if err != nil || v != int64(1) {
					t.Fatalf("create = %v, %v; want 1", v, err)
				}
				return
			}
			wantFault(t, err, tt.code, "redstone.xmlrpc.XmlRpcFault: "+tt.message)
		})
	}

	all := mustCall(t, c, "channel.listAllChannels", key)
	if got := names(all, "label"); strings.Join(got, ",") != "base-x86,child-x86,chan-six,chan-seven,chan-eight,chan-nine" {
		t.Errorf("listAllChannels labels = %v", got)
	}
	d := mustCall(t, c, "channel.software.getDetails", key, "chan-nine").(map[string]any)
	if d["parent_channel_label"] != "base-x86" || d["arch_label"] != "channel-x86_64" || d["gpg_check"] != true || d["checksum_label"] != "sha256" {
		t.Errorf("getDetails = %v", d)
	}
	if _, ok := d["last_modified"].(time.Time); !ok {
		t.Errorf("last_modified = %T, want a date", d["last_modified"])
	}
	byID := mustCall(t, c, "channel.software.getDetails", key, d["id"]).(map[string]any)
	if byID["label"] != "chan-nine" {
		t.Errorf("getDetails by id = %v", byID)
	}
	six := mustCall(t, c, "channel.software.getDetails", key, "chan-six").(map[string]any)
	if six["checksum_label"] != "sha1" {
		t.Errorf("6-parameter create checksum = %v, want Uyuni's default sha1", six["checksum_label"])
	}
	_, err := call(c, "channel.software.getDetails", key, "nope")
	wantFault(t, err, -210, "redstone.xmlrpc.XmlRpcFault: No such channel: nope")

	arches := mustCall(t, c, "channel.software.listArches", key)
	var found bool
	for _, a := range arches.([]any) {
		m := a.(map[string]any)
		if m["label"] == "channel-x86_64" && m["name"] == "x86_64" {
			found = true
		}
	}
	if !found {
		t.Errorf("listArches lacks x86_64: %v", arches)
	}
	// The hub is a separate server: it has none of these channels.
	h := dial(t, sim.Hub().URL())
	if got := mustCall(t, h, "channel.listAllChannels", login(t, h)); len(got.([]any)) != 0 {
		t.Errorf("hub channels = %v", got)
	}
}

func TestConfigChannels(t *testing.T) {
	sim := start(t, uyunisim.Config{})
	c := dial(t, sim.Hub().URL())
	key := login(t, c)

	cc := mustCall(t, c, "configchannel.create", key, "cfg-one", "Config One", "first").(map[string]any)
	if cc["label"] != "cfg-one" || cc["configChannelType"].(map[string]any)["label"] != "normal" {
		t.Errorf("create = %v", cc)
	}
	mustCall(t, c, "configchannel.create", key, "cfg-two", "Config Two", "second", "normal")
	st := mustCall(t, c, "configchannel.create", key, "cfg-state", "State", "d", "state", map[string]any{"contents": "x: 1"}).(map[string]any)
	if st["configChannelType"].(map[string]any)["label"] != "state" {
		t.Errorf("state channel = %v", st)
	}
	_, err := call(c, "configchannel.create", key, "cfg-one", "Again", "d")
	wantFault(t, err, 1021, "redstone.xmlrpc.XmlRpcFault: Exception encountered during channel creation.\nERRORS:\n"+
		"Label 'cfg-one' already exists.  Please choose a different label for the new channel.\n")

	if got := mustCall(t, c, "configchannel.channelExists", key, "cfg-one"); got != int64(1) {
		t.Errorf("channelExists = %v", got)
	}
	if got := mustCall(t, c, "configchannel.channelExists", key, "nope"); got != int64(0) {
		t.Errorf("channelExists(nope) = %v", got)
	}
	if got := names(mustCall(t, c, "configchannel.listGlobals", key), "label"); strings.Join(got, ",") != "cfg-one,cfg-two,cfg-state" {
		t.Errorf("listGlobals = %v", got)
	}

	rev := mustCall(t, c, "configchannel.createOrUpdatePath", key, "cfg-one", "/etc/motd", false,
		map[string]any{"contents": "hello", "owner": "root", "group": "root", "permissions": "644"}).(map[string]any)
	if rev["revision"] != int64(1) || rev["contents"] != "hello" || rev["type"] != "file" || rev["permissions_mode"] != "644" {
		t.Errorf("createOrUpdatePath = %v", rev)
	}
	rev = mustCall(t, c, "configchannel.createOrUpdatePath", key, "cfg-one", "/etc/motd", false,
		map[string]any{"contents": "aGk=", "contents_enc64": true}).(map[string]any)
	if rev["revision"] != int64(2) || rev["contents"] != "hi" {
		t.Errorf("second revision = %v", rev)
	}
	_, err = call(c, "configchannel.createOrUpdatePath", key, "cfg-one", "/etc", true, map[string]any{"contents": "x"})
	wantFault(t, err, 2801, "redstone.xmlrpc.XmlRpcFault: Invalid argument(s): contents")
	_, err = call(c, "configchannel.createOrUpdatePath", key, "nope", "/etc/x", false, map[string]any{})
	wantFault(t, err, -210, "redstone.xmlrpc.XmlRpcFault: No such channel: nope")

	for _, args := range [][]any{
		{key, "cfg-one"},
		{key, "cfg-one", time.Now()},
		{key, "cfg-one", "/etc/motd"},
		{key, "cfg-one", "/etc/motd", time.Now()},
	} {
		if got := mustCall(t, c, "configchannel.deployAllSystems", args...); got != int64(1) {
			t.Errorf("deployAllSystems%v = %v", args[1:], got)
		}
	}
	// ConfigurationManager.lookupConfigFile returns null and .getId() throws.
	_, err = call(c, "configchannel.deployAllSystems", key, "cfg-one", "/etc/none")
	wantFault(t, err, -1, "redstone.xmlrpc.XmlRpcFault: unhandled internal exception: null")
}

func TestActivationKeys(t *testing.T) {
	sim := start(t, uyunisim.Config{})
	c := dial(t, sim.Hub().URL())
	key := login(t, c)
	mustCall(t, c, "channel.software.create", key, "base-chan", "Base Channel", "s", "channel-x86_64", "")
	mustCall(t, c, "channel.software.create", key, "child-chan", "Child Channel", "s", "channel-x86_64", "base-chan")
	mustCall(t, c, "configchannel.create", key, "cfg-one", "Config One", "d")

	if got := mustCall(t, c, "activationkey.create", key, "key", "d", "", []any{}, false); got != "1-key" {
		t.Fatalf("create = %v, want 1-key", got)
	}
	// spacecmd's activationkey_create, and the overload with a usage limit.
	mustCall(t, c, "activationkey.create", key, "web", "Web servers", "base-chan", []any{"virtualization_host"}, false)
	mustCall(t, c, "activationkey.create", key, "limited", "d", "", 5, []any{}, true)
	gen := mustCall(t, c, "activationkey.create", key, "", "generated", "", []any{}, false).(string)
	if !strings.HasPrefix(gen, "1-") || len(gen) != 34 {
		t.Errorf("generated key = %q", gen)
	}

	faults := []struct {
		name    string
		args    []any
		code    int
		message string
	}{
		{"duplicate", []any{"key", "d", "", []any{}, false}, 1091, "An activation key with label '1-key' is already taken. Please choose a different label."},
		{"bad characters", []any{"a,b", "d", "", []any{}, false}, 1091, "Activation key label <strong>1-a,b</strong> has one or more of the " +
			"following invalid characters <strong>[, \"]</strong>. Please remove these characters from the label."},
		{"unknown base", []any{"k2", "d", "nope", []any{}, false}, -211, "Invalid channel"},
		{"child as base", []any{"k2", "d", "child-chan", []any{}, false}, -211, "Child Channel is not a base channel."},
		{"unknown entitlement", []any{"k2", "d", "", []any{"golden"}, false}, 1091, "Invalid add-on entitlement [golden] provided. No such entitlement exists."},
	}
	for _, tt := range faults {
		t.Run(tt.name, func(t *testing.T) {
			_, err := call(c, "activationkey.create", append([]any{key}, tt.args...)...)
			wantFault(t, err, tt.code, "redstone.xmlrpc.XmlRpcFault: "+tt.message)
		})
	}

	mustCall(t, c, "activationkey.addChildChannels", key, "1-web", []any{"child-chan"})
	mustCall(t, c, "activationkey.addConfigChannels", key, []any{"1-web", "1-key"}, []any{"cfg-one"}, true)
	d := mustCall(t, c, "activationkey.getDetails", key, "1-web").(map[string]any)
	if d["base_channel_label"] != "base-chan" || d["description"] != "Web servers" ||
		len(d["child_channel_labels"].([]any)) != 1 || d["entitlements"].([]any)[0] != "virtualization_host" {
		t.Errorf("getDetails = %v", d)
	}
	if d := mustCall(t, c, "activationkey.getDetails", key, "1-limited").(map[string]any); d["usage_limit"] != int64(5) || d["universal_default"] != true {
		t.Errorf("limited key = %v", d)
	}
	_, err := call(c, "activationkey.getDetails", key, "1-nope")
	wantFault(t, err, -212, "redstone.xmlrpc.XmlRpcFault: Activation Key [1-nope] Not Found!")
	_, err = call(c, "activationkey.addChildChannels", key, "1-web", []any{"base-chan"})
	wantFault(t, err, -211, "redstone.xmlrpc.XmlRpcFault: Base Channel is not a child channel.")
	_, err = call(c, "activationkey.addConfigChannels", key, []any{"1-web"}, []any{"nope"}, false)
	wantFault(t, err, -210, "redstone.xmlrpc.XmlRpcFault: No such channel: nope")
	_, err = call(c, "activationkey.addChildChannels", key, "1-web", []any{1})
	wantFault(t, err, -1, "redstone.xmlrpc.XmlRpcFault: unhandled internal exception: class java.lang.Integer cannot be cast to class java.lang.String")

	if got := names(mustCall(t, c, "activationkey.listActivationKeys", key), "key"); len(got) != 4 || got[0] != "1-key" {
		t.Errorf("listActivationKeys = %v", got)
	}
}

func TestOrgAndUser(t *testing.T) {
	sim := start(t, uyunisim.Config{User: "ops", Password: "pw"})
	c := dial(t, sim.Hub().URL())
	key, _ := mustCall(t, c, "auth.login", "ops", "pw").(string)
	orgs := mustCall(t, c, "org.listOrgs", key).([]any)
	if o := orgs[0].(map[string]any); o["id"] != int64(1) || o["name"] != "Default Organization" {
		t.Errorf("listOrgs = %v", orgs)
	}
	if got := names(mustCall(t, c, "user.listUsers", key), "login"); len(got) != 1 || got[0] != "ops" {
		t.Errorf("listUsers = %v", got)
	}
	roles := mustCall(t, c, "user.listAssignableRoles", key).([]any)
	if len(roles) == 0 || roles[0] != "activation_key_admin" {
		t.Errorf("listAssignableRoles = %v", roles)
	}
}

// Config.Users: more accounts, in the second org, where no system is:
// Uyuni answers per user, so listSystems differs from the admin's (and the
// simulator's response cache keeps the two apart).
func TestMoreUsers(t *testing.T) {
	sim := start(t, uyunisim.Config{Peripherals: 1, Systems: 3, Users: map[string]string{"viewer": "vpw"}})
	for _, srv := range []string{sim.Hub().URL(), sim.Peripherals()[0].URL()} {
		c := dial(t, srv)
		admin := login(t, c)
		viewer, _ := mustCall(t, c, "auth.login", "viewer", "vpw").(string)
		_, err := call(c, "auth.login", "viewer", "admin")
		wantFault(t, err, 2950, "redstone.xmlrpc.XmlRpcFault: Either the password or username is incorrect.")
		for range 2 { // the second time from the response cache
			if n := len(mustCall(t, c, "system.listSystems", viewer).([]any)); n != 0 {
				t.Errorf("%s: the viewer sees %d systems, want none", srv, n)
			}
		}
		if srv != sim.Hub().URL() {
			if n := len(mustCall(t, c, "system.listSystems", admin).([]any)); n != 3 {
				t.Errorf("the admin sees %d systems, want 3", n)
			}
		}
	}
}
