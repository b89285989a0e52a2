package uyunisim

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Objects is what GET /sim/objects returns: every object of one server, so
// tests in other processes can assert convergence ("no extra revision on a
// second apply") without going through the API.
type Objects struct {
	Org            OrgJSON             `json:"org"`
	HiddenOrg      OrgJSON             `json:"hidden_org"`
	Channels       []ChannelJSON       `json:"channels"`
	Repos          []RepoJSON          `json:"repos"`
	ConfigChannels []ConfigChannelJSON `json:"config_channels"`
	ActivationKeys []KeyJSON           `json:"activation_keys"`
	Groups         []GroupJSON         `json:"groups"`
	Actions        []ActionJSON        `json:"actions"`
	// SystemConfig: system id → its config channels, by rank.
	SystemConfig map[string][]string `json:"system_config"`
}

// OrgJSON is an organisation.
type OrgJSON struct {
	ID   int64  `json:"id"`
	Name string `json:"name"`
}

// ChannelJSON is a software channel; Hidden marks one of the org the
// admin cannot see.
type ChannelJSON struct {
	ID              int64    `json:"id"`
	Label           string   `json:"label"`
	Name            string   `json:"name"`
	Hidden          bool     `json:"hidden"`
	Arch            string   `json:"arch_label"`
	Parent          string   `json:"parent_label"`
	Summary         string   `json:"summary"`
	Description     string   `json:"description"`
	Checksum        string   `json:"checksum_label"`
	GPGURL          string   `json:"gpg_key_url"`
	GPGID           string   `json:"gpg_key_id"`
	GPGFP           string   `json:"gpg_key_fp"`
	GPGCheck        bool     `json:"gpg_check"`
	MaintainerName  string   `json:"maintainer_name"`
	MaintainerEmail string   `json:"maintainer_email"`
	MaintainerPhone string   `json:"maintainer_phone"`
	SupportPolicy   string   `json:"support_policy"`
	Access          string   `json:"access"`
	Repos           []string `json:"repos"`
	Cron            string   `json:"cron"`
}

// RepoJSON is a repository (ContentSource).
type RepoJSON struct {
	ID    int64  `json:"id"`
	Label string `json:"label"`
	Type  string `json:"type"`
	URL   string `json:"url"`
}

// ConfigChannelJSON is a config channel with its files.
type ConfigChannelJSON struct {
	ID          int64            `json:"id"`
	Label       string           `json:"label"`
	Name        string           `json:"name"`
	Description string           `json:"description"`
	Type        string           `json:"type"`
	Files       []ConfigFileJSON `json:"files"`
}

// ConfigFileJSON is a path with its revision count and latest revision.
type ConfigFileJSON struct {
	Path        string `json:"path"`
	Type        string `json:"type"`
	Revisions   int    `json:"revisions"`
	Revision    int64  `json:"revision"`
	SHA256      string `json:"sha256,omitempty"`
	Owner       string `json:"owner,omitempty"`
	Group       string `json:"group,omitempty"`
	Permissions string `json:"permissions_mode,omitempty"`
	Target      string `json:"target_path,omitempty"`
}

// KeyJSON is an activation key; UsageLimit is null when unlimited.
type KeyJSON struct {
	Key            string   `json:"key"`
	Description    string   `json:"description"`
	Base           string   `json:"base_channel_label"`
	UsageLimit     *int64   `json:"usage_limit"`
	Entitlements   []string `json:"entitlements"`
	ChildChannels  []string `json:"child_channel_labels"`
	ConfigChannels []string `json:"config_channels"`
	Groups         []int64  `json:"server_group_ids"`
	Packages       []string `json:"package_names"`
	DeployConfigs  bool     `json:"deploy_configs"`
	Disabled       bool     `json:"disabled"`
	UniversalDef   bool     `json:"universal_default"`
	ContactMethod  string   `json:"contact_method"`
}

// GroupJSON is a system group.
type GroupJSON struct {
	ID             int64    `json:"id"`
	Name           string   `json:"name"`
	Description    string   `json:"description"`
	ConfigChannels []string `json:"config_channels"`
}

// ActionJSON is a scheduled action and the state of each system.
type ActionJSON struct {
	ID       int64             `json:"id"`
	Name     string            `json:"name"`
	Type     string            `json:"type"`
	Earliest time.Time         `json:"earliest"`
	Systems  map[string]string `json:"systems"` // system id → queued, completed, failed
}

// Objects returns every object of the server.
func (s *Server) Objects() Objects {
	st := s.st
	st.mu.Lock()
	defer st.mu.Unlock()
	o := Objects{Org: OrgJSON{st.org.id, st.org.name}, HiddenOrg: OrgJSON{st.otherOrg.id, st.otherOrg.name},
		Channels: []ChannelJSON{}, Repos: []RepoJSON{}, ConfigChannels: []ConfigChannelJSON{},
		ActivationKeys: []KeyJSON{}, Groups: []GroupJSON{}, Actions: []ActionJSON{}, SystemConfig: map[string][]string{}}
	for _, ch := range st.channels {
		o.Channels = append(o.Channels, ChannelJSON{ID: ch.id, Label: ch.label, Name: ch.name, Hidden: ch.org != st.org.id,
			Arch: ch.arch.label, Parent: ch.parent, Summary: ch.summary, Description: ch.description, Checksum: ch.checksum,
			GPGURL: ch.gpgURL, GPGID: ch.gpgID, GPGFP: ch.gpgFP, GPGCheck: ch.gpgCheck, MaintainerName: ch.maintainerName,
			MaintainerEmail: ch.maintainerEmail, MaintainerPhone: ch.maintainerPhone, SupportPolicy: ch.supportPolicy,
			Access: ch.access, Repos: nonNil(ch.repos), Cron: ch.cron})
	}
	for _, r := range st.repos {
		o.Repos = append(o.Repos, RepoJSON{r.id, r.label, r.typ, r.url})
	}
	for _, cc := range st.configs {
		j := ConfigChannelJSON{ID: cc.id, Label: cc.label, Name: cc.name, Description: cc.description, Type: cc.typ, Files: []ConfigFileJSON{}}
		for _, f := range cc.files {
			r := f.latest()
			fj := ConfigFileJSON{Path: f.path, Type: r.typ, Revisions: len(f.revisions), Revision: r.revision, Target: r.target}
			if r.typ != "symlink" {
				fj.Owner, fj.Group, fj.Permissions = r.owner, r.group, fmt.Sprintf("%03d", r.permissions)
			}
			if r.typ == "file" || r.typ == "sls" {
				fj.SHA256 = sha256Hex(r.contents)
			}
			j.Files = append(j.Files, fj)
		}
		o.ConfigChannels = append(o.ConfigChannels, j)
	}
	for _, ak := range st.keys {
		j := KeyJSON{Key: ak.key, Description: ak.description, Base: ak.base, UsageLimit: ak.usageLimit,
			Entitlements: nonNil(ak.entitlements), ChildChannels: nonNil(ak.childChannels), ConfigChannels: nonNil(ak.configChannels),
			Groups: nonNil(ak.groups), Packages: []string{}, DeployConfigs: ak.deployConfigs, Disabled: ak.disabled,
			UniversalDef: st.defaultKey == ak, ContactMethod: ak.contactMethod}
		for _, p := range ak.packages {
			j.Packages = append(j.Packages, p.name)
		}
		o.ActivationKeys = append(o.ActivationKeys, j)
	}
	for _, g := range st.groups {
		o.Groups = append(o.Groups, GroupJSON{g.id, g.name, g.description, nonNil(g.configChannels)})
	}
	for _, a := range st.actions {
		j := ActionJSON{ID: a.id, Name: a.name, Type: a.typ, Earliest: a.earliest, Systems: map[string]string{}}
		for _, sys := range a.systems {
			j.Systems[strconv.FormatInt(sys.id, 10)] = [...]string{"queued", "completed", "failed"}[sys.state]
		}
		o.Actions = append(o.Actions, j)
	}
	for id, labels := range st.sysConfig {
		if len(labels) > 0 {
			o.SystemConfig[strconv.FormatInt(id, 10)] = labels
		}
	}
	return o
}

func nonNil[T any](s []T) []T {
	if s == nil {
		return []T{}
	}
	return s
}

// ObjectChange is what POST /sim/objects takes: one object created,
// changed or deleted behind the API's back (drift), or seeded in the org
// the admin cannot see (Hidden: its name and label still collide).
//
//	{"kind":"channel","label":"x","name":"X","hidden":true}                  seed an invisible channel
//	{"kind":"channel","label":"x","set":{"summary":"changed"}}               drift
//	{"kind":"config_file","channel":"cfg","path":"/etc/motd","set":{"contents":"x"}}  a new revision
//	{"kind":"activation_key","key":"1-web","delete":true}
//
// Kinds: channel (set: name, summary, description, gpg_key_url, gpg_key_id,
// gpg_key_fp, gpg_check, maintainer_name, maintainer_email, maintainer_phone,
// support_policy, access, arch_label and parent_label on creation), repo
// (set: url, type), config_channel (set: name, description, type on
// creation), config_file (set: contents, owner, group, permissions),
// activation_key (set: description, base_channel_label), group (set: description).
type ObjectChange struct {
	Kind    string         `json:"kind"`
	Label   string         `json:"label,omitempty"`
	Name    string         `json:"name,omitempty"`
	Key     string         `json:"key,omitempty"`
	Channel string         `json:"channel,omitempty"`
	Path    string         `json:"path,omitempty"`
	Hidden  bool           `json:"hidden,omitempty"`
	Delete  bool           `json:"delete,omitempty"`
	Set     map[string]any `json:"set,omitempty"`
}

// ChangeObject applies one ObjectChange.
func (s *Server) ChangeObject(c ObjectChange) error {
	st := s.st
	st.mu.Lock()
	defer st.mu.Unlock()
	if c.Hidden && c.Kind != "channel" {
		// Config channel labels, keys (org-prefixed) and groups are per org:
		// an invisible one would collide with nothing.
		return fmt.Errorf("hidden: only channels are seeded in the hidden org")
	}
	var err error
	switch c.Kind {
	case "channel":
		err = st.changeChannel(c)
	case "repo":
		err = st.changeRepo(c)
	case "config_channel":
		err = st.changeConfigChannel(c)
	case "config_file":
		err = st.changeConfigFile(c)
	case "activation_key":
		err = st.changeKey(c)
	case "group":
		err = st.changeGroup(c)
	default:
		err = fmt.Errorf("unknown kind %q (want channel, repo, config_channel, config_file, activation_key or group)", c.Kind)
	}
	if err == nil {
		st.wrote()
	}
	return err
}

// setFields applies c.Set's members to named string or bool fields, refusing
// unknown members.
func setFields(set map[string]any, strs map[string]*string, bools map[string]*bool) error {
	for k, v := range set {
		switch {
		case strs[k] != nil:
			s, ok := v.(string)
			if !ok {
				return fmt.Errorf("set.%s: want a string", k)
			}
			*strs[k] = s
		case bools[k] != nil:
			b, ok := v.(bool)
			if !ok {
				return fmt.Errorf("set.%s: want a boolean", k)
			}
			*bools[k] = b
		default:
			return fmt.Errorf("set.%s: not a field of this kind", k)
		}
	}
	return nil
}

func (st *state) changeChannel(c ObjectChange) error {
	ch := st.channelByLabel[c.Label]
	if c.Delete {
		if ch == nil {
			return fmt.Errorf("no channel %q", c.Label)
		}
		st.channels = slices.DeleteFunc(st.channels, func(x *channel) bool { return x == ch })
		delete(st.channelByLabel, ch.label)
		return nil
	}
	create := ch == nil
	if create {
		if c.Label == "" {
			return errors.New("a channel needs a label")
		}
		ch = &channel{label: c.Label, name: c.Name, summary: c.Label, checksum: "sha256", gpgCheck: true, org: st.org.id, modified: st.now()}
		if ch.name == "" {
			ch.name = c.Label
		}
		if c.Hidden {
			ch.org = st.otherOrg.id
		}
	}
	next := *ch
	archLabel, parent := "channel-x86_64", ""
	strs := map[string]*string{"name": &next.name, "summary": &next.summary, "description": &next.description,
		"gpg_key_url": &next.gpgURL, "gpg_key_id": &next.gpgID, "gpg_key_fp": &next.gpgFP,
		"maintainer_name": &next.maintainerName, "maintainer_email": &next.maintainerEmail,
		"maintainer_phone": &next.maintainerPhone, "support_policy": &next.supportPolicy, "access": &next.access}
	if create {
		strs["arch_label"], strs["parent_label"] = &archLabel, &parent
	}
	if err := setFields(c.Set, strs, map[string]*bool{"gpg_check": &next.gpgCheck}); err != nil {
		return err
	}
	if create {
		a, ok := findArch(archLabel)
		if !ok {
			return fmt.Errorf("unknown arch %q", archLabel)
		}
		next.arch, next.parent = a, parent
		if parent != "" && st.channelByLabel[parent] == nil {
			return fmt.Errorf("no parent channel %q", parent)
		}
		st.addChannel(&next)
		return nil
	}
	*ch = next
	return nil
}

func (st *state) changeRepo(c ObjectChange) error {
	r := st.repoByLabel(c.Label)
	if c.Delete {
		if r == nil {
			return fmt.Errorf("no repo %q", c.Label)
		}
		st.repos = slices.DeleteFunc(st.repos, func(x *repo) bool { return x == r })
		return nil
	}
	if r == nil {
		if c.Label == "" {
			return errors.New("a repo needs a label")
		}
		st.nextID++
		r = &repo{id: st.nextID, label: c.Label, typ: "yum"}
		st.repos = append(st.repos, r)
	}
	return setFields(c.Set, map[string]*string{"url": &r.url, "type": &r.typ}, nil)
}

func (st *state) changeConfigChannel(c ObjectChange) error {
	cc := st.configByLabel[c.Label]
	if c.Delete {
		if cc == nil {
			return fmt.Errorf("no config channel %q", c.Label)
		}
		st.configs = slices.DeleteFunc(st.configs, func(x *configChannel) bool { return x == cc })
		delete(st.configByLabel, cc.label)
		return nil
	}
	if cc == nil {
		if c.Label == "" {
			return errors.New("a config channel needs a label")
		}
		typ := "normal"
		if v, ok := c.Set["type"]; ok {
			typ, _ = v.(string)
			delete(c.Set, "type")
		}
		if _, ok := configTypeOf(typ); !ok {
			return fmt.Errorf("set.type: want normal or state")
		}
		st.nextID++
		cc = &configChannel{id: st.nextID, label: c.Label, name: c.Label, description: c.Label, typ: typ}
		if typ == "state" {
			st.addRevision(cc, initSLS, &configRevision{typ: "sls", owner: "root", group: "root", permissions: 644}, st.now())
		}
		st.configs = append(st.configs, cc)
		st.configByLabel[cc.label] = cc
	}
	return setFields(c.Set, map[string]*string{"name": &cc.name, "description": &cc.description}, nil)
}

// changeConfigFile adds a revision (or deletes the path), as another admin
// editing the file in the web UI would.
func (st *state) changeConfigFile(c ObjectChange) error {
	cc := st.configByLabel[c.Channel]
	if cc == nil {
		return fmt.Errorf("no config channel %q", c.Channel)
	}
	if !strings.HasPrefix(c.Path, "/") {
		return fmt.Errorf("path %q is not absolute", c.Path)
	}
	f := cc.file(c.Path)
	if c.Delete {
		if f == nil {
			return fmt.Errorf("no file %q in %q", c.Path, c.Channel)
		}
		cc.files = slices.DeleteFunc(cc.files, func(x *configFile) bool { return x == f })
		return nil
	}
	rev := configRevision{typ: "file", owner: "root", group: "root", permissions: 644, macroStart: "{|", macroEnd: "|}"}
	if f != nil {
		rev = *f.latest()
		rev.revision = 0
	}
	contents, perms := string(rev.contents), fmt.Sprintf("%03d", rev.permissions)
	if err := setFields(c.Set, map[string]*string{"contents": &contents, "owner": &rev.owner, "group": &rev.group,
		"permissions": &perms}, nil); err != nil {
		return err
	}
	p, err := strconv.ParseInt(perms, 10, 64)
	if err != nil {
		return fmt.Errorf("set.permissions: %w", err)
	}
	rev.contents, rev.permissions = []byte(contents), p
	st.addRevision(cc, c.Path, &rev, st.now())
	return nil
}

func (st *state) changeKey(c ObjectChange) error {
	ak := st.keyByName[c.Key]
	if c.Delete {
		if ak == nil {
			return fmt.Errorf("no activation key %q", c.Key)
		}
		st.keys = slices.DeleteFunc(st.keys, func(x *activationKey) bool { return x == ak })
		delete(st.keyByName, ak.key)
		return nil
	}
	if ak == nil {
		if c.Key == "" {
			return errors.New("an activation key needs a key")
		}
		ak = &activationKey{key: c.Key, description: "None", contactMethod: "default"}
		st.keys = append(st.keys, ak)
		st.keyByName[ak.key] = ak
	}
	return setFields(c.Set, map[string]*string{"description": &ak.description, "base_channel_label": &ak.base}, nil)
}

func (st *state) changeGroup(c ObjectChange) error {
	g := st.groupByName(c.Name)
	if c.Delete {
		if g == nil {
			return fmt.Errorf("no group %q", c.Name)
		}
		st.groups = slices.DeleteFunc(st.groups, func(x *serverGroup) bool { return x == g })
		return nil
	}
	if g == nil {
		if c.Name == "" {
			return errors.New("a group needs a name")
		}
		st.nextID++
		g = &serverGroup{id: st.nextID, name: c.Name, description: "none"}
		st.groups = append(st.groups, g)
	}
	return setFields(c.Set, map[string]*string{"description": &g.description}, nil)
}

// decodeObjectChange reads a POST /sim/objects body, refusing unknown fields.
func decodeObjectChange(b []byte) (ObjectChange, error) {
	var c ObjectChange
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&c); err != nil {
		return c, fmt.Errorf("objects: %w", err)
	}
	return c, nil
}
