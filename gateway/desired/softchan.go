package desired

import (
	"context"
	"fmt"
	"strings"

	"github.com/hubgw/hubgw/gateway/rpc"
)

// softwareChannelOps is SoftwareChannel (ChannelSoftwareHandler):
// getDetails (-210 when absent or invisible), the 8-argument create (the
// shorter one defaults the checksum to sha1), then setDetails with the
// changed keys only, so an older server is not refused a newer key (2801).
// Arch and parent cannot change through the API: a difference is a
// conflict. Create faults 1200 (name) and 1201 (label) mean "in use,
// perhaps by another org": the engine re-reads.
type softwareChannelOps struct{}

// channelDetailKeys maps managed fields to setDetails keys.
var channelDetailKeys = map[string]string{
	"name": "name", "summary": "summary", "description": "description", "checksum": "checksum_label",
	"gpg.url": "gpg_key_url", "gpg.id": "gpg_key_id", "gpg.fingerprint": "gpg_key_fp", "gpg.check": "gpg_check",
	"maintainer.name": "maintainer_name", "maintainer.email": "maintainer_email", "maintainer.phone": "maintainer_phone",
}

func (softwareChannelOps) read(ctx context.Context, s *server, o *object) (fields, error) {
	v, err := s.call(ctx, "channel.software.getDetails", o.Name)
	if isFault(err, rpc.CodeNoSuchChannel) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	d := structOf(v)
	f := fields{}
	for field, key := range channelDetailKeys {
		f[field] = str(d[key])
	}
	f["gpg.id"] = strings.ToUpper(str(d["gpg_key_id"]))
	f["gpg.check"] = boolean(d["gpg_check"])
	f["arch"] = str(d["arch_label"])
	f["parent"] = str(d["parent_channel_label"])
	f["supportPolicy"] = str(d["support_policy"])
	sources, _ := d["contentSources"].([]any)
	for _, src := range sources {
		r := structOf(src)
		f["repositories["+str(r["label"])+"]"] = strings.ToLower(str(r["type"])) + " " + str(r["sourceUrl"])
	}
	if _, ok := o.want["sync.schedule"]; ok || o.want == nil {
		cron, err := s.call(ctx, "channel.software.getRepoSyncCronExpression", o.Name)
		if err != nil {
			return nil, err
		}
		f["sync.schedule"] = str(cron)
	}
	if _, ok := o.want["access"]; ok || o.want == nil {
		access, err := s.call(ctx, "channel.access.getOrgSharing", o.Name)
		if err != nil {
			return nil, err
		}
		f["access"] = str(access)
	}
	return f, nil
}

func (softwareChannelOps) create(ctx context.Context, s *server, o *object) error {
	w := func(k string) string { x, _ := o.want[k].(string); return x }
	checksum := w("checksum")
	if checksum == "" {
		checksum = "sha256"
	}
	check, _ := o.want["gpg.check"].(bool)
	gpg := rpc.Struct{{Name: "url", Value: w("gpg.url")}, {Name: "id", Value: w("gpg.id")}, {Name: "fingerprint", Value: w("gpg.fingerprint")}}
	_, err := s.call(ctx, "channel.software.create", o.Name, w("name"), w("summary"), w("arch"), w("parent"), checksum, gpg, check)
	return err
}

func (softwareChannelOps) update(ctx context.Context, s *server, o *object, have fields, changes []Change) error {
	var details rpc.Struct
	var contact, repos bool
	for _, c := range changes {
		if key, ok := channelDetailKeys[c.Field]; ok {
			val := o.want[c.Field]
			if b, isBool := val.(bool); isBool {
				val = map[bool]string{true: "true", false: "false"}[b] // parsed from a string by Uyuni
			}
			details = append(details, rpc.Member{Name: key, Value: val})
		}
		contact = contact || c.Field == "supportPolicy"
		repos = repos || strings.HasPrefix(c.Field, "repositories[")
	}
	if len(details) > 0 {
		if _, err := s.call(ctx, "channel.software.setDetails", o.Name, details); err != nil {
			return err
		}
	}
	if contact {
		cur := func(k string) any {
			if v, ok := o.want[k]; ok {
				return v
			}
			return have[k]
		}
		if _, err := s.call(ctx, "channel.software.setContactDetails", o.Name, cur("maintainer.name"), cur("maintainer.email"),
			cur("maintainer.phone"), cur("supportPolicy")); err != nil {
			return err
		}
	}
	for _, c := range changes {
		if !strings.HasPrefix(c.Field, "repositories[") {
			continue
		}
		if err := s.ensureRepo(ctx, o.Name, strings.TrimSuffix(strings.TrimPrefix(c.Field, "repositories["), "]"),
			o.want[c.Field].(string), have[c.Field] != nil); err != nil {
			return err
		}
	}
	if cron, ok := o.want["sync.schedule"].(string); ok && cron != have["sync.schedule"] && cron != "" {
		if _, err := s.call(ctx, "channel.software.syncRepo", o.Name, cron); err != nil {
			return err
		}
	}
	if access, ok := o.want["access"].(string); ok && access != have["access"] {
		if _, err := s.call(ctx, "channel.access.setOrgSharing", o.Name, access); err != nil {
			return err
		}
	}
	if repos && s.justCreated && o.prune["syncOnCreate"] {
		if _, err := s.call(ctx, "channel.software.syncRepo", o.Name); err != nil {
			return err
		}
	}
	return nil
}

// ensureRepo makes repository label (typeAndURL "yum https://...") exist
// with that URL and be associated with the channel.
func (s *server) ensureRepo(ctx context.Context, channel, label, typeAndURL string, associated bool) error {
	typ, url, _ := strings.Cut(typeAndURL, " ")
	v, err := s.call(ctx, "channel.software.getRepoDetails", label)
	switch {
	case isFault(err, rpc.CodeInvalidParameter): // 1213: no such repository
		if _, err := s.call(ctx, "channel.software.createRepo", label, typ, url); err != nil {
			return s.repoURLTaken(ctx, label, url, err)
		}
	case err != nil:
		return err
	case str(structOf(v)["sourceUrl"]) != url:
		if _, err := s.call(ctx, "channel.software.updateRepoUrl", label, url); err != nil {
			return s.repoURLTaken(ctx, label, url, err)
		}
	}
	if associated {
		return nil
	}
	_, err = s.call(ctx, "channel.software.associateRepo", channel, label)
	return err
}

// repoURLTaken turns "There's already a defined repository with given
// url, please reuse it." (fault 1, InvalidRepoUrlException: one repository
// per URL and type in an org, BaseRepoCommand) into a conflict naming the
// repository that has the URL, which the document can use instead; other
// errors pass unchanged.
func (s *server) repoURLTaken(ctx context.Context, label, url string, err error) error {
	var f *rpc.Fault
	if !asFault(err, &f) || f.Code != 1 {
		return err
	}
	repos, lerr := s.call(ctx, "channel.software.listUserRepos")
	if lerr != nil {
		return err
	}
	for _, r := range items(repos) {
		if m := structOf(r); str(m["sourceUrl"]) == url && str(m["label"]) != label {
			return &conflictError{fault: f, reason: fmt.Sprintf("repository %s: its URL %s is already the repository %s on this server (Uyuni keeps one repository per URL); name it %s in the document", label, url, str(m["label"]), str(m["label"]))}
		}
	}
	return err
}

func (softwareChannelOps) immutable(field string, _, _ any) bool {
	return field == "arch" || field == "parent"
}

func (softwareChannelOps) exists(f *rpc.Fault) bool {
	return f.Code == rpc.CodeInvalidChanName || f.Code == rpc.CodeInvalidChanLabel
}

// syncedByHub reports whether Hub Online Sync keeps channel label on this
// peripheral: the hub lists it for the peripheral's FQDN
// (sync.hub.listPeripheralChannelsToSync, HubHandler: @ReadOnly in
// uyuni-project/uyuni's current source, though the embedded catalog,
// older, does not mark it; it is sent here, not through s.call, so a plan
// may read it). Two writers would
// fight, the hub's next sync undoing the apply, so such a channel is a
// conflict. The list is read once per server. A hub that cannot say (no
// hub sync before 2025, a user who is not a hub administrator, the hub
// unreachable) manages no channel through it as far as the plan can
// tell, and nothing is refused.
func (s *server) syncedByHub(ctx context.Context, label string) bool {
	if s.hubSynced == nil {
		s.hubSynced = map[string]bool{}
		if s.t.Hub || s.t.FQDN == "" {
			return false
		}
		r, err := s.send(ctx, s.e.gw.Hub(), "sync.hub.listPeripheralChannelsToSync", []any{s.t.FQDN})
		if err != nil || !r.OK() {
			return false
		}
		v, err := rpc.Decode(r.Value)
		if err != nil {
			return false
		}
		for _, l := range strList(v) {
			s.hubSynced[l] = true
		}
	}
	return s.hubSynced[label]
}
