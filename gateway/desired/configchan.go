package desired

import (
	"context"
	"encoding/base64"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/hubgw/hubgw/gateway/rpc"
)

// configChannelOps is ConfigChannel (ConfigChannelHandler): getDetails
// (-210 when absent), create (every fault 1021; "already exists" means
// re-read), update for name and description; files compared by sha256
// (lookupFileInfo, only for paths listFiles shows: one missing path faults
// the whole call) and written with createOrUpdatePath only when they
// differ, since every call makes a new revision. Contents go base64, so a
// final newline survives Uyuni's trimming. Type (normal/state) and a
// file's type cannot change: conflict.
type configChannelOps struct{}

const initSls = "/init.sls"

func (configChannelOps) read(ctx context.Context, s *server, o *object) (fields, error) {
	v, err := s.call(ctx, "configchannel.getDetails", o.Name)
	if isFault(err, rpc.CodeNoSuchChannel) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	d := structOf(v)
	typ := str(structOf(d["configChannelType"])["label"])
	f := fields{"name": str(d["name"]), "description": str(d["description"]), "type": typ}
	if o.want != nil && len(o.files) == 0 && o.want["paths"] == nil && o.want["subscribe.systemGroups"] == nil && !hasFiles(o.want) {
		return f, nil
	}
	lv, err := s.call(ctx, "configchannel.listFiles", o.Name)
	if err != nil {
		return nil, err
	}
	var look []any
	var paths []string
	for _, e := range items(lv) {
		p := str(structOf(e)["path"])
		if typ == "state" && p == initSls && o.files[p] == nil {
			continue // made by Uyuni for every state channel
		}
		paths = append(paths, p)
		if _, wanted := o.want["files["+p+"].type"]; wanted || o.want == nil {
			look = append(look, p)
		}
	}
	if o.prune["files"] || o.want == nil {
		f["paths"] = newSet(paths)
	}
	if len(look) > 0 {
		iv, err := s.call(ctx, "configchannel.lookupFileInfo", o.Name, look)
		if err != nil {
			return nil, err
		}
		infos, _ := iv.([]any)
		for _, e := range infos {
			r := structOf(e)
			k := "files[" + str(r["path"]) + "]."
			ft := str(r["type"])
			f[k+"type"] = ft
			f[k+"selinuxCtx"] = str(r["selinux_ctx"])
			switch ft {
			case "symlink":
				f[k+"target"] = str(r["target_path"])
			default:
				f[k+"owner"], f[k+"group"] = str(r["owner"]), str(r["group"])
				f[k+"mode"] = normMode(str(r["permissions_mode"]))
				if ft == "file" {
					f[k+"sha256"] = str(r["sha256"])
				}
				if ft == "file" && o.want == nil { // export: the content itself
					f[k+"content"] = fileContent(r)
				}
			}
		}
	}
	if groups, ok := o.want["subscribe.systemGroups"].(set); ok {
		var in []string
		for _, g := range groups.items {
			av, err := s.call(ctx, "systemgroup.listAssignedConfigChannels", g)
			if err != nil {
				return nil, err
			}
			for _, c := range items(av) {
				if str(structOf(c)["label"]) == o.Name {
					in = append(in, g)
				}
			}
		}
		f["subscribe.systemGroups"] = newSet(in)
	}
	return f, nil
}

func hasFiles(w fields) bool {
	for k := range w {
		if strings.HasPrefix(k, "files[") {
			return true
		}
	}
	return false
}

func (configChannelOps) create(ctx context.Context, s *server, o *object) error {
	name, _ := o.want["name"].(string)
	desc, _ := o.want["description"].(string)
	if desc == "" {
		desc = name // Uyuni requires a description
	}
	_, err := s.call(ctx, "configchannel.create", o.Name, name, desc, o.want["type"])
	return err
}

func (configChannelOps) update(ctx context.Context, s *server, o *object, have fields, changes []Change) error {
	cur := func(k string) any {
		if v, ok := o.want[k]; ok {
			return v
		}
		return have[k]
	}
	var paths []string
	var details, subscribe bool
	for _, c := range changes {
		switch {
		case c.Field == "name" || c.Field == "description":
			details = true
		case strings.HasPrefix(c.Field, "files["):
			p := c.Field[len("files["):strings.LastIndex(c.Field, "]")]
			if !slices.Contains(paths, p) {
				paths = append(paths, p)
			}
		case c.Field == "subscribe.systemGroups":
			subscribe = true
		}
	}
	if details {
		if _, err := s.call(ctx, "configchannel.update", o.Name, cur("name"), cur("description")); err != nil {
			return err
		}
	}
	for _, p := range paths {
		if err := s.writeFile(ctx, o, p, cur); err != nil {
			return err
		}
	}
	if want, ok := o.want["paths"].(set); ok {
		hp, _ := have["paths"].(set)
		var extra []any
		for _, p := range hp.items {
			if !slices.Contains(want.items, p) {
				extra = append(extra, p)
			}
		}
		if len(extra) > 0 {
			if _, err := s.call(ctx, "configchannel.deleteFiles", o.Name, extra); err != nil {
				return err
			}
			paths = append(paths, "(pruned)")
		}
	}
	if subscribe {
		hg, _ := have["subscribe.systemGroups"].(set)
		for _, g := range o.want["subscribe.systemGroups"].(set).items {
			if slices.Contains(hg.items, g) {
				continue
			}
			if _, err := s.call(ctx, "systemgroup.subscribeConfigChannel", g, []any{o.Name}); err != nil {
				return err
			}
		}
	}
	if o.deploy == "always" || o.deploy == "changed" && len(paths) > 0 {
		return s.deploy(ctx, o)
	}
	return nil
}

// writeFile writes one declared path. Owner, group and mode are always
// sent (Uyuni stores whatever the map holds, missing ones included): the
// declared value, else the server's, else root/root/644 (755 for directories).
func (s *server) writeFile(ctx context.Context, o *object, path string, cur func(string) any) error {
	k := "files[" + path + "]."
	or := func(field, def string) string {
		if v, _ := cur(k + field).(string); v != "" {
			return v
		}
		return def
	}
	typ := or("type", "file")
	var data rpc.Struct
	if sel := or("selinuxCtx", ""); sel != "" {
		data = append(data, rpc.Member{Name: "selinux_ctx", Value: sel})
	}
	if typ == "symlink" {
		data = append(data, rpc.Member{Name: "target_path", Value: or("target", "")})
		_, err := s.call(ctx, "configchannel.createOrUpdateSymlink", o.Name, path, data)
		return err
	}
	mode := "644"
	if typ == "directory" {
		mode = "755"
	}
	data = append(data, rpc.Member{Name: "owner", Value: or("owner", "root")}, rpc.Member{Name: "group", Value: or("group", "root")},
		rpc.Member{Name: "permissions", Value: or("mode", mode)})
	if typ == "directory" {
		_, err := s.call(ctx, "configchannel.createOrUpdatePath", o.Name, path, true, data)
		return err
	}
	content := rpc.Struct{{Name: "contents", Value: base64.StdEncoding.EncodeToString(o.files[path])}, {Name: "contents_enc64", Value: true}}
	if o.want["type"] == "state" && path == initSls {
		_, err := s.call(ctx, "configchannel.updateInitSls", o.Name, content)
		return err
	}
	_, err := s.call(ctx, "configchannel.createOrUpdatePath", o.Name, path, false, append(content, data...))
	return err
}

// The action types deploys schedule, as schedule.listAllActions names
// them (rhnActionType's names: configfiles.deploy, states.apply).
const (
	deployFilesAction = "Deploy config files to system"
	applyStatesAction = "Apply states"
)

// deploy sends a channel's files to its systems: deployAllSystems for a
// normal channel, an "apply states" action for a state channel's systems.
// The action is dated (Deploys.At, plus the object's index in seconds, so
// two channels' deploys differ); when an earlier run under the same date
// may have scheduled it (Deploys.Recheck), it is looked for first and
// not scheduled again.
func (s *server) deploy(ctx context.Context, o *object) error {
	at := s.deploys.At
	if at.IsZero() {
		at = time.Now()
	}
	at = at.UTC().Truncate(time.Second).Add(time.Duration(o.index) * time.Second)
	typ := deployFilesAction
	if o.want["type"] == "state" {
		typ = applyStatesAction
	}
	if s.deploys.Recheck {
		id, err := s.scheduledAt(ctx, typ, at)
		if err != nil {
			return err
		}
		if id != 0 {
			s.note = fmt.Sprintf("deploy not scheduled again: action %d, dated %s, is the earlier run's", id, at.Format(time.RFC3339))
			return nil
		}
	}
	if typ == deployFilesAction {
		_, err := s.call(ctx, "configchannel.deployAllSystems", o.Name, at)
		return err
	}
	v, err := s.call(ctx, "configchannel.listSubscribedSystems", o.Name)
	if err != nil {
		return err
	}
	var ids []any
	for _, e := range items(v) {
		ids = append(ids, num(structOf(e)["id"]))
	}
	if len(ids) == 0 {
		return nil
	}
	_, err = s.call(ctx, "system.config.scheduleApplyConfigChannel", ids, at, false)
	return err
}

// scheduledAt finds an action of type typ dated at, 0 when there is none.
// deployAllSystems answers no action id, so the date is what tells the
// action apart: ConfigurationManager.deployConfiguration keeps the date
// it is given as the action's earliest, and ScheduleHandler.listAllActions
// lists the org's actions with it (ScheduleActionSerializer: id, name,
// type, scheduler, earliest, ...).
func (s *server) scheduledAt(ctx context.Context, typ string, at time.Time) (int64, error) {
	v, err := s.call(ctx, "schedule.listAllActions")
	if err != nil {
		return 0, err
	}
	for _, e := range items(v) {
		a := structOf(e)
		if when, ok := a["earliest"].(time.Time); ok && str(a["type"]) == typ && when.Equal(at) {
			return num(a["id"]), nil
		}
	}
	return 0, nil
}

func (configChannelOps) immutable(field string, have, _ any) bool {
	return field == "type" || strings.HasSuffix(field, "].type") && have != nil
}

func (configChannelOps) exists(f *rpc.Fault) bool {
	return f.Code == rpc.CodeConfigCreate && strings.Contains(f.String, "already exists")
}

// fileContent is a revision's content as text (base64 when the server sent it so).
func fileContent(r map[string]any) string {
	c, _ := r["contents"].(string)
	if boolean(r["contents_enc64"]) {
		if b, err := base64.StdEncoding.DecodeString(c); err == nil {
			return string(b)
		}
	}
	return c
}
