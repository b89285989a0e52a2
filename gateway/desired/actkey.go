package desired

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/hubgw/hubgw/gateway/rpc"
)

// activationKeyOps is ActivationKey (ActivationKeyHandler). A key is
// "<org>-<name>" with the calling user's org on that server
// (user.getDetails). Setting the base channel clears every channel of the
// key (Token.setBaseChannel), so the base is written first, the key read
// again, and the children added after. Group names become each server's
// own ids. Absent: -212 "... Not Found!"; create of a taken key: 1091 (1090
// on a race).
type activationKeyOps struct{}

const codeNoSuchKey = -212

// keyName is the key's full name on this server.
func (s *server) keyName(ctx context.Context, name string) (string, error) {
	if s.org == 0 {
		// The org is that of the account the server knows the caller as:
		// a configured service account, or whoever attached, not
		// necessarily the hub user (a missing login, before the server
		// was attached, falls back to the hub user's name).
		login := s.sess.User
		if l := s.sess.Logins[s.t.Key()]; l != "" {
			login = l
		}
		v, err := s.call(ctx, "user.getDetails", login)
		if err != nil {
			return "", err
		}
		s.org = num(structOf(v)["org_id"])
	}
	return fmt.Sprintf("%d-%s", s.org, name), nil
}

func (activationKeyOps) read(ctx context.Context, s *server, o *object) (fields, error) {
	key, err := s.keyName(ctx, o.Name)
	if err != nil {
		return nil, err
	}
	v, err := s.call(ctx, "activationkey.getDetails", key)
	var f *rpc.Fault
	if isFault(err, codeNoSuchKey) && asFault(err, &f) && strings.Contains(f.String, "Not Found") {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	d := structOf(v)
	h := fields{
		"description":      keyDescription(str(d["description"])),
		"baseChannel":      baseLabel(str(d["base_channel_label"])),
		"childChannels":    newSet(strList(d["child_channel_labels"])),
		"entitlements":     newSet(strList(d["entitlements"])),
		"packages":         newSet(strList(d["package_names"])),
		"universalDefault": boolean(d["universal_default"]),
		"disabled":         boolean(d["disabled"]),
		"contactMethod":    str(d["contact_method"]),
	}
	if n := num(d["usage_limit"]); n == 0 {
		h["usageLimit"] = "unlimited"
	} else {
		h["usageLimit"] = n
	}
	if _, ok := o.want["systemGroups"]; ok || o.want == nil {
		ids, err := s.groupIDs(ctx, false)
		if err != nil {
			return nil, err
		}
		var names []string
		for _, id := range items(d["server_group_ids"]) {
			for n, gid := range ids {
				if gid == num(id) {
					names = append(names, n)
				}
			}
		}
		h["systemGroups"] = newSet(names)
	}
	if _, ok := o.want["configChannels"]; ok || o.want == nil {
		cv, err := s.call(ctx, "activationkey.listConfigChannels", key)
		if err != nil {
			return nil, err
		}
		var labels []string
		for _, c := range items(cv) {
			labels = append(labels, str(structOf(c)["label"]))
		}
		h["configChannels"] = ranked{items: labels}
	}
	if _, ok := o.want["deployConfigs"]; ok || o.want == nil {
		dv, err := s.call(ctx, "activationkey.checkConfigDeployment", key)
		if err != nil {
			return nil, err
		}
		h["deployConfigs"] = boolean(dv)
	}
	return h, nil
}

func (activationKeyOps) create(ctx context.Context, s *server, o *object) error {
	desc, _ := o.want["description"].(string)
	if desc == "None" {
		desc = ""
	}
	base, _ := o.want["baseChannel"].(string)
	if base == "none" {
		base = ""
	}
	ents := []any{}
	if e, ok := o.want["entitlements"].(set); ok {
		ents = anyList(e.items)
	}
	universal, _ := o.want["universalDefault"].(bool)
	args := []any{o.Name, desc, base}
	if n, ok := o.want["usageLimit"].(int64); ok {
		args = append(args, n)
	}
	_, err := s.call(ctx, "activationkey.create", append(args, ents, universal)...)
	return err
}

func (ops activationKeyOps) update(ctx context.Context, s *server, o *object, have fields, changes []Change) error {
	key, err := s.keyName(ctx, o.Name)
	if err != nil {
		return err
	}
	changed := map[string]bool{}
	for _, c := range changes {
		changed[c.Field] = true
	}
	if changed["baseChannel"] {
		base := o.want["baseChannel"].(string)
		if base == "none" {
			base = ""
		}
		if _, err := s.call(ctx, "activationkey.setDetails", key, rpc.Struct{{Name: "base_channel_label", Value: base}}); err != nil {
			return err
		}
		// The new base cleared the key's channels: compare again.
		if have, err = ops.read(ctx, s, o); err != nil {
			return err
		}
		changed = map[string]bool{}
		for _, c := range diff(o.want, have) {
			changed[c.Field] = true
		}
	}
	var details rpc.Struct
	for field, key := range map[string]string{"description": "description", "universalDefault": "universal_default",
		"disabled": "disabled", "contactMethod": "contact_method"} {
		if changed[field] {
			details = append(details, rpc.Member{Name: key, Value: o.want[field]})
		}
	}
	if changed["usageLimit"] {
		if n, ok := o.want["usageLimit"].(int64); ok {
			details = append(details, rpc.Member{Name: "usage_limit", Value: n})
		} else {
			details = append(details, rpc.Member{Name: "unlimited_usage_limit", Value: true})
		}
	}
	if len(details) > 0 {
		slices.SortFunc(details, func(a, b rpc.Member) int { return strings.Compare(a.Name, b.Name) })
		if _, err := s.call(ctx, "activationkey.setDetails", key, details); err != nil {
			return err
		}
	}
	for _, k := range []struct{ field, add, remove string }{
		{"childChannels", "activationkey.addChildChannels", "activationkey.removeChildChannels"},
		{"entitlements", "activationkey.addEntitlements", "activationkey.removeEntitlements"},
		{"packages", "activationkey.addPackages", "activationkey.removePackages"},
		{"systemGroups", "activationkey.addServerGroups", "activationkey.removeServerGroups"},
	} {
		if !changed[k.field] {
			continue
		}
		want := o.want[k.field].(set)
		hv, _ := have[k.field].(set)
		add, remove := setDiff(want.items, hv.items)
		if !want.exact {
			remove = nil
		}
		for i, list := range [][]string{add, remove} {
			if len(list) == 0 {
				continue
			}
			args, err := s.keyItems(ctx, k.field, list)
			if err != nil {
				return err
			}
			if _, err := s.call(ctx, []string{k.add, k.remove}[i], key, args); err != nil {
				return err
			}
		}
	}
	if changed["configChannels"] {
		want := o.want["configChannels"].(ranked)
		labels := slices.Clone(want.items)
		if hv, _ := have["configChannels"].(ranked); !want.exact {
			for _, l := range hv.items {
				if !slices.Contains(labels, l) {
					labels = append(labels, l)
				}
			}
		}
		if _, err := s.call(ctx, "activationkey.setConfigChannels", []any{key}, anyList(labels)); err != nil {
			return err
		}
	}
	if changed["deployConfigs"] {
		m := "activationkey.disableConfigDeployment"
		if o.want["deployConfigs"].(bool) {
			m = "activationkey.enableConfigDeployment"
		}
		if _, err := s.call(ctx, m, key); err != nil {
			return err
		}
	}
	return nil
}

// keyItems is a list as the add/remove calls take it: packages as
// {name} structs, groups as this server's ids.
func (s *server) keyItems(ctx context.Context, field string, list []string) ([]any, error) {
	switch field {
	case "packages":
		out := make([]any, len(list))
		for i, n := range list {
			out[i] = rpc.Struct{{Name: "name", Value: n}}
		}
		return out, nil
	case "systemGroups":
		ids, err := s.groupIDs(ctx, true) // groups may have been created by this apply
		if err != nil {
			return nil, err
		}
		out := make([]any, 0, len(list))
		for _, n := range list {
			id, ok := ids[n]
			if !ok {
				return nil, rpc.Faultf(2200, "hubgw: no system group %q on this server", n)
			}
			out = append(out, id)
		}
		return out, nil
	}
	return anyList(list), nil
}

// setDiff is what to add to have to reach want, and what have holds beyond it.
func setDiff(want, have []string) (add, extra []string) {
	for _, w := range want {
		if !slices.Contains(have, w) {
			add = append(add, w)
		}
	}
	for _, h := range have {
		if !slices.Contains(want, h) {
			extra = append(extra, h)
		}
	}
	return add, extra
}

func (activationKeyOps) immutable(string, any, any) bool { return false }

func (activationKeyOps) exists(f *rpc.Fault) bool {
	return f.Code == 1091 && strings.Contains(f.String, "already taken") || f.Code == 1090
}
