package uyunisim

import (
	"fmt"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/hubgw/hubgw/gateway/rpc"
)

// Changes to software channels and their repositories follow
// ChannelSoftwareHandler, UpdateChannelCommand, BaseRepoCommand,
// ContentSourceSerializer and ChannelAccessHandler (paususe/uyuni, 2020);
// isExisting is the current uyuni-project handler's.

// channelDetailKeys are setDetails' valid keys; the newest API adds
// vendor_channel.
func channelDetailKeys(mode string) []string {
	keys := []string{"checksum_label", "name", "summary", "description", "maintainer_name", "maintainer_email",
		"maintainer_phone", "gpg_key_url", "gpg_key_id", "gpg_key_fp", "gpg_check"}
	if mode == DiscoverySyncHub {
		keys = append(keys, "vendor_channel")
	}
	return keys
}

func channelSoftwareIsExisting(c *call) (any, *rpc.Fault) {
	return c.st.visibleChannel(c.str("channelLabel")) != nil, nil
}

// channelSoftwareSetDetails: the label form looks the channel up first,
// then the id form checks the keys (2801). Values are strings
// (Map<String,String>): gpg_check is Boolean.parseBoolean of one, and a
// real boolean is a ClassCastException. Arch and parent cannot change.
func channelSoftwareSetDetails(c *call) (any, *rpc.Fault) {
	ch, f := c.channelArg()
	if f != nil {
		return nil, f
	}
	details, _ := c.strct("details")
	if f := validateMap(details, channelDetailKeys(c.srv.mode())...); f != nil {
		return nil, f
	}
	vals := map[string]string{}
	for _, m := range details {
		s, ok := m.Value.(string)
		if !ok {
			return nil, castFault(m.Value, "java.lang.String")
		}
		vals[m.Name] = s
	}
	next := *ch
	if v, ok := vals["name"]; ok && v != ch.name {
		if f := validateChannelName(v); f != nil {
			return nil, f
		}
		for _, other := range c.st.channels {
			if other.name == v {
				return nil, handlerFault(1200, fmt.Sprintf("The channel name '%s' is already in use, please enter a different name", v))
			}
		}
		next.name = v
	}
	if v, ok := vals["checksum_label"]; ok {
		if !validChecksum(v) {
			return nil, handlerFault(1210, "Invalid checksum label")
		}
		next.checksum = v
	}
	if v, ok := vals["summary"]; ok {
		if v == "" {
			return nil, unhandled("edit.channel.invalidchannelsummary")
		}
		next.summary = v
	}
	if v, ok := vals["gpg_key_id"]; ok {
		v = strings.ToUpper(v)
		if v != "" && !gpgKeyIDRe.MatchString(v) {
			return nil, handlerFault(1208, "Invalid GPG key")
		}
		next.gpgID = v
	}
	if v, ok := vals["gpg_key_url"]; ok {
		if v != "" && !gpgURLRe.MatchString(strings.ToUpper(v)) {
			return nil, handlerFault(1207, "Invalid GPG URL")
		}
		next.gpgURL = v
	}
	for key, dst := range map[string]*string{
		"description": &next.description, "gpg_key_fp": &next.gpgFP, "maintainer_name": &next.maintainerName,
		"maintainer_email": &next.maintainerEmail, "maintainer_phone": &next.maintainerPhone,
	} {
		if v, ok := vals[key]; ok {
			*dst = v
		}
	}
	if v, ok := vals["gpg_check"]; ok {
		next.gpgCheck = strings.EqualFold(v, "true")
	}
	next.modified = c.now()
	*ch = next
	c.st.wrote()
	return 1, nil
}

func channelSoftwareSetContactDetails(c *call) (any, *rpc.Fault) {
	ch, f := c.channelArg()
	if f != nil {
		return nil, f
	}
	ch.maintainerName, ch.maintainerEmail = c.str("maintainerName"), c.str("maintainerEmail")
	ch.maintainerPhone, ch.supportPolicy = c.str("maintainerPhone"), c.str("supportPolicy")
	c.st.wrote()
	return 1, nil
}

func channelSoftwareListChildren(c *call) (any, *rpc.Fault) {
	ch, f := c.channelArg()
	if f != nil {
		return nil, f
	}
	out := []any{}
	for _, child := range c.st.channels {
		if child.parent == ch.label && child.org == c.st.org.id {
			out = append(out, c.st.channelStruct(child))
		}
	}
	return out, nil
}

// channelSoftwareDelete: a channel with children cannot go (ChannelManager's
// PermissionException, 1234).
func channelSoftwareDelete(c *call) (any, *rpc.Fault) {
	ch, f := c.channelArg()
	if f != nil {
		return nil, f
	}
	st := c.st
	for _, child := range st.channels {
		if child.parent == ch.label {
			return nil, handlerFault(1234, "This channel has child channels associated with it.  You must delete those channels first before deleting the parent.")
		}
	}
	st.channels = slices.DeleteFunc(st.channels, func(x *channel) bool { return x == ch })
	delete(st.channelByLabel, ch.label)
	for _, ak := range st.keys {
		if ak.base == ch.label {
			ak.base, ak.childChannels = "", nil
		}
		ak.childChannels = without(ak.childChannels, []string{ch.label})
	}
	st.wrote()
	return 1, nil
}

// Repositories.

func (st *state) repoByLabel(label string) *repo {
	return find(st.repos, func(r *repo) bool { return r.label == label })
}

// repoArg is lookupContentSourceByLabel / ById (1213).
func (c *call) repoArg() (*repo, *rpc.Fault) {
	if id, ok := c.integer("id"); ok {
		if r := find(c.st.repos, func(r *repo) bool { return r.id == id }); r != nil {
			return r, nil
		}
		return nil, handlerFault(1213, fmt.Sprintf("No such repository with id: %d", id))
	}
	for _, p := range []string{"repoLabel", "label"} {
		if _, ok := c.arg(p); ok {
			label := c.str(p)
			if r := c.st.repoByLabel(label); r != nil {
				return r, nil
			}
			return nil, handlerFault(1213, "No such repository: "+label)
		}
	}
	return nil, unhandled("uyunisim: no repository parameter")
}

func repoStruct(r *repo) rpc.Struct {
	return rpc.Struct{
		{Name: "id", Value: r.id},
		{Name: "label", Value: r.label},
		{Name: "sourceUrl", Value: r.url},
		{Name: "type", Value: r.typ},
		{Name: "hasSignedMetadata", Value: r.signedMetadata},
		{Name: "sslContentSources", Value: []any{}},
	}
}

// urlInUse is ChannelFactory.lookupContentSourceByOrgAndRepo: same type and URL.
func (st *state) urlInUse(typ, u string, except *repo) bool {
	for _, r := range st.repos {
		if r != except && r.typ == typ && r.url == u {
			return true
		}
	}
	return false
}

// channelSoftwareCreateRepo is createRepo with BaseRepoCommand.store: the
// label in use is code 2, the URL (same type) code 1, a malformed URL code 1.
func channelSoftwareCreateRepo(c *call) (any, *rpc.Fault) {
	label, typ, u := c.str("label"), strings.ToLower(c.str("type")), c.str("url")
	switch {
	case label == "":
		return nil, handlerFault(1213, "label might not be empty")
	case u == "":
		return nil, handlerFault(1213, "url might not be empty")
	}
	st := c.st
	if st.repoByLabel(label) != nil {
		return nil, handlerFault(2, "The repository label '"+label+"' is already in use, please choose a different label")
	}
	if _, err := url.ParseRequestURI(u); err != nil || !strings.Contains(u, "://") {
		return nil, handlerFault(1, "Repository URL "+u+" is not valid.")
	}
	if !slices.Contains([]string{"yum", "uln", "deb"}, typ) {
		return nil, unhandled("null") // lookupContentSourceType finds nothing: NullPointerException
	}
	if st.urlInUse(typ, u, nil) {
		return nil, handlerFault(1, "There's already a defined repository with given url, please reuse it.")
	}
	signed, _ := c.boolean("isMetadataSigned")
	st.nextID++
	r := &repo{id: st.nextID, label: label, typ: typ, url: u, signedMetadata: signed}
	st.repos = append(st.repos, r)
	st.wrote()
	return repoStruct(r), nil
}

func channelSoftwareGetRepoDetails(c *call) (any, *rpc.Fault) {
	r, f := c.repoArg()
	if f != nil {
		return nil, f
	}
	return repoStruct(r), nil
}

func channelSoftwareListChannelRepos(c *call) (any, *rpc.Fault) {
	ch, f := c.channelArg()
	if f != nil {
		return nil, f
	}
	out := []any{}
	for _, l := range ch.repos {
		if r := c.st.repoByLabel(l); r != nil {
			out = append(out, repoStruct(r))
		}
	}
	return out, nil
}

func channelSoftwareListUserRepos(c *call) (any, *rpc.Fault) {
	out := make([]any, len(c.st.repos))
	for i, r := range c.st.repos {
		out[i] = rpc.Struct{{Name: "id", Value: r.id}, {Name: "label", Value: r.label}, {Name: "sourceUrl", Value: r.url}}
	}
	return out, nil
}

// channelSoftwareAssociateRepo and disassociateRepo answer the channel.
func channelSoftwareAssociateRepo(add bool) func(c *call) (any, *rpc.Fault) {
	return func(c *call) (any, *rpc.Fault) {
		ch, f := c.channelArg()
		if f != nil {
			return nil, f
		}
		r, f := c.repoArg()
		if f != nil {
			return nil, f
		}
		if add {
			ch.repos = appendNew(ch.repos, r.label)
		} else {
			ch.repos = without(ch.repos, []string{r.label})
		}
		c.st.wrote()
		return c.st.channelStruct(ch), nil
	}
}

func channelSoftwareUpdateRepoURL(c *call) (any, *rpc.Fault) {
	r, f := c.repoArg()
	if f != nil {
		return nil, f
	}
	u := c.str("url")
	if u == "" {
		return nil, handlerFault(1213, "url might not be empty")
	}
	if c.st.urlInUse(r.typ, u, nil) {
		return nil, handlerFault(1, "There's already a defined repository with given url, please reuse it.")
	}
	r.url = u
	c.st.wrote()
	return repoStruct(r), nil
}

func channelSoftwareRemoveRepo(c *call) (any, *rpc.Fault) {
	r, f := c.repoArg()
	if f != nil {
		return nil, f
	}
	st := c.st
	st.repos = slices.DeleteFunc(st.repos, func(x *repo) bool { return x == r })
	for _, ch := range st.channels {
		ch.repos = without(ch.repos, []string{r.label})
	}
	st.wrote()
	return 1, nil
}

// channelSoftwareSyncRepo: without a cron expression the sync runs now
// (the simulator records it as done); with one it is scheduled, and ""
// unschedules. The list and params overloads are not simulated.
func channelSoftwareSyncRepo(c *call) (any, *rpc.Fault) {
	if _, ok := c.arg("channelLabels"); ok {
		return nil, handlerFault(-1, "uyunisim: channel.software.syncRepo(channelLabels) is in Uyuni's API but not simulated")
	}
	ch, f := c.channelArg()
	if f != nil {
		return nil, f
	}
	if _, ok := c.arg("cronExpr"); ok {
		ch.cron = c.str("cronExpr")
	} else {
		ch.lastSync = c.now().Truncate(time.Second)
	}
	c.st.wrote()
	return 1, nil
}

func channelSoftwareGetRepoSyncCronExpression(c *call) (any, *rpc.Fault) {
	ch, f := c.channelArg()
	if f != nil {
		return nil, f
	}
	return ch.cron, nil
}

// Org sharing (ChannelAccessHandler).

func channelAccessGetOrgSharing(c *call) (any, *rpc.Fault) {
	ch, f := c.channelArg()
	if f != nil {
		return nil, f
	}
	return ch.access, nil
}

func channelAccessSetOrgSharing(c *call) (any, *rpc.Fault) {
	ch, f := c.channelArg()
	if f != nil {
		return nil, f
	}
	access := c.str("access")
	if !slices.Contains([]string{"public", "private", "protected"}, access) {
		return nil, handlerFault(1064, "Invalid access value '"+access+"' provided.")
	}
	ch.access = access
	c.st.wrote()
	return 1, nil
}
