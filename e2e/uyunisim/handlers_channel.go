package uyunisim

import (
	"fmt"
	"regexp"
	"slices"
	"strings"

	"github.com/hubgw/hubgw/gateway/rpc"
)

// Channel rules of Uyuni's CreateChannelCommand.
const (
	channelNameMinLength  = 6
	channelNameMaxLength  = 256
	channelLabelMinLength = 6
)

var (
	channelNameRe  = regexp.MustCompile(`^[a-zA-Z][\w\s\-.'()/]*$`)
	channelLabelRe = regexp.MustCompile(`^[a-z\d][a-z\d\-._]*$`)
	gpgKeyIDRe     = regexp.MustCompile(`^[0-9A-F]{8}$`)
	gpgURLRe       = regexp.MustCompile(`^(HTTPS?|FILE)://`) // matched against the upper-cased URL
)

type arch struct{ label, name string }

// channelArches is what channel.software.listArches reports.
func channelArches() []arch {
	return []arch{
		{"channel-ia32", "IA-32"},
		{"channel-ia64", "IA-64"},
		{"channel-x86_64", "x86_64"},
		{"channel-s390", "s390"},
		{"channel-s390x", "s390x"},
		{"channel-ppc", "PPC"},
		{"channel-ppc64le", "PPC64LE"},
		{"channel-aarch64", "AArch64"},
		{"channel-armhfp", "ARM hard. FP"},
		{"channel-ia32-deb", "IA-32 Debian"},
		{"channel-amd64-deb", "AMD64 Debian"},
		{"channel-arm64-deb", "arm64 Debian"},
	}
}

func findArch(label string) (arch, bool) {
	for _, a := range channelArches() {
		if a.label == label {
			return a, true
		}
	}
	return arch{}, false
}

func channelSoftwareListArches(*call) (any, *rpc.Fault) {
	arches := channelArches()
	out := make([]any, len(arches))
	for i, a := range arches {
		out[i] = rpc.Struct{{Name: "name", Value: a.name}, {Name: "label", Value: a.label}}
	}
	return out, nil
}

// channelSoftwareCreate follows CreateChannelCommand.create: summary, name,
// label and GPG data are checked first, then whether name and label are in
// use (the name first: creating the same channel twice is a name fault,
// 1200), then arch, checksum and parent.
func channelSoftwareCreate(c *call) (any, *rpc.Fault) {
	label, name, summary := c.str("label"), c.str("name"), c.str("summary")
	checksum := "sha1" // the 6-parameter overload's default
	if _, ok := c.arg("checksumType"); ok {
		checksum = c.str("checksumType")
	}
	var gpgURL, gpgID, gpgFP string
	if gpg, ok := c.strct("gpgKey"); ok {
		var f *rpc.Fault
		if gpgURL, f = memberString(gpg, "url"); f != nil {
			return nil, f
		}
		if gpgID, f = memberString(gpg, "id"); f != nil {
			return nil, f
		}
		if gpgFP, f = memberString(gpg, "fingerprint"); f != nil {
			return nil, f
		}
	}
	gpgCheck := true // the 7- and 8-parameter overloads pass true
	if b, ok := c.boolean("gpgCheck"); ok {
		gpgCheck = b
	}

	if summary == "" {
		return nil, unhandled("edit.channel.invalidchannelsummary")
	}
	if f := validateChannelName(name); f != nil {
		return nil, f
	}
	if f := validateChannelLabel(label); f != nil {
		return nil, f
	}
	if gpgID != "" {
		gpgID = strings.ToUpper(gpgID)
		if !gpgKeyIDRe.MatchString(gpgID) {
			return nil, handlerFault(1208, "Invalid GPG key")
		}
	}
	if gpgURL != "" && !gpgURLRe.MatchString(strings.ToUpper(gpgURL)) {
		return nil, handlerFault(1207, "Invalid GPG URL")
	}
	st := c.st
	for _, ch := range st.channels { // every org's: ChannelFactory.doesChannelNameExist
		if ch.name == name {
			return nil, handlerFault(1200, fmt.Sprintf("The channel name '%s' is already in use, please enter a different name", name))
		}
	}
	if st.channelByLabel[label] != nil {
		return nil, handlerFault(1201, fmt.Sprintf("The channel label '%s' is already in use, please enter a different label", label))
	}
	a, ok := findArch(c.str("archLabel"))
	if !ok {
		return nil, unhandled("Invalid architecture label")
	}
	if !validChecksum(checksum) {
		return nil, handlerFault(1210, "Invalid checksum label")
	}
	parent := c.str("parentLabel")
	if parent != "" {
		p := st.visibleChannel(parent)
		switch {
		case p == nil:
			return nil, unhandled("Invalid Parent Channel lbl")
		case p.parent != "":
			return nil, handlerFault(1202, "Invalid parent channel")
		case p.arch != a:
			return nil, unhandled("Incompatible parent and child channel architectures")
		}
	}
	st.addChannel(&channel{
		org: st.org.id, label: label, name: name, summary: summary, arch: a, parent: parent,
		checksum: checksum, gpgURL: gpgURL, gpgID: gpgID, gpgFP: gpgFP, gpgCheck: gpgCheck,
		modified: c.now(),
	})
	return 1, nil
}

func (st *state) addChannel(ch *channel) {
	st.nextID++
	ch.id = st.nextID
	if ch.access == "" {
		ch.access = "private" // Channel.PRIVATE, the default of a new channel
	}
	st.channels = append(st.channels, ch)
	st.channelByLabel[ch.label] = ch
	st.wrote()
}

// visibleChannel is ChannelFactory.lookupByLabelAndUser: the admin sees
// the channels of its org only; nil otherwise.
func (st *state) visibleChannel(label string) *channel {
	if ch := st.channelByLabel[label]; ch != nil && ch.org == st.org.id {
		return ch
	}
	return nil
}

// channelArg is ChannelSoftwareHandler.lookupChannelByLabel and
// lookupChannelById (-210), by whichever parameter the overload has.
func (c *call) channelArg() (*channel, *rpc.Fault) {
	if id, ok := c.integer("channelId"); ok {
		return c.st.channelByID(id)
	}
	if id, ok := c.integer("id"); ok {
		return c.st.channelByID(id)
	}
	for _, p := range []string{"channelLabel", "chanLabel", "label"} {
		if _, ok := c.arg(p); ok {
			label := c.str(p)
			if ch := c.st.visibleChannel(label); ch != nil {
				return ch, nil
			}
			return nil, handlerFault(-210, "No such channel: "+label)
		}
	}
	return nil, unhandled("uyunisim: no channel parameter")
}

func (st *state) channelByID(id int64) (*channel, *rpc.Fault) {
	for _, ch := range st.channels {
		if ch.id == id && ch.org == st.org.id {
			return ch, nil
		}
	}
	return nil, handlerFault(-210, fmt.Sprintf("No such channel with id: %d", id))
}

func validChecksum(label string) bool {
	return slices.Contains([]string{"sha1", "sha256", "sha384", "sha512"}, label)
}

// The messages approximate Uyuni's localized ones; the codes are Uyuni's.

func validateChannelName(name string) *rpc.Fault {
	switch {
	case strings.TrimSpace(name) == "":
		return handlerFault(1200, "Channel name is required.")
	case !channelNameRe.MatchString(name):
		return handlerFault(1200, "Invalid channel name, please see the format described below.")
	case len(name) < channelNameMinLength:
		return handlerFault(1200, fmt.Sprintf("Channel name must be at least %d characters long.", channelNameMinLength))
	case len(name) > channelNameMaxLength:
		return handlerFault(1200, fmt.Sprintf("Channel name must be at most %d characters long.", channelNameMaxLength))
	}
	return nil
}

func validateChannelLabel(label string) *rpc.Fault {
	switch {
	case strings.TrimSpace(label) == "":
		return handlerFault(1201, "Channel label is required.")
	case !channelLabelRe.MatchString(label):
		return handlerFault(1201, "Invalid channel label, please see the format described below.")
	case len(label) < channelLabelMinLength:
		return handlerFault(1201, fmt.Sprintf("Channel label must be at least %d characters long.", channelLabelMinLength))
	}
	return nil
}

func channelSoftwareGetDetails(c *call) (any, *rpc.Fault) {
	ch, f := c.channelArg()
	if f != nil {
		return nil, f
	}
	return c.st.channelStruct(ch), nil
}

// channelStruct is ChannelSerializer.
func (st *state) channelStruct(ch *channel) rpc.Struct {
	sources := make([]any, 0, len(ch.repos))
	for _, l := range ch.repos {
		if r := st.repoByLabel(l); r != nil {
			sources = append(sources, rpc.Struct{{Name: "id", Value: r.id}, {Name: "label", Value: r.label},
				{Name: "sourceUrl", Value: r.url}, {Name: "type", Value: r.typ}})
		}
	}
	s := rpc.Struct{
		{Name: "id", Value: ch.id},
		{Name: "name", Value: ch.name},
		{Name: "label", Value: ch.label},
		{Name: "arch_name", Value: ch.arch.name},
		{Name: "arch_label", Value: ch.arch.label},
		{Name: "summary", Value: ch.summary},
		{Name: "description", Value: ch.description},
		{Name: "checksum_label", Value: ch.checksum},
		{Name: "last_modified", Value: ch.modified},
		{Name: "maintainer_name", Value: ch.maintainerName},
		{Name: "maintainer_email", Value: ch.maintainerEmail},
		{Name: "maintainer_phone", Value: ch.maintainerPhone},
		{Name: "support_policy", Value: ch.supportPolicy},
		{Name: "gpg_key_url", Value: ch.gpgURL},
		{Name: "gpg_key_id", Value: ch.gpgID},
		{Name: "gpg_key_fp", Value: ch.gpgFP},
		{Name: "gpg_check", Value: ch.gpgCheck},
		{Name: "end_of_life", Value: ""},
		{Name: "parent_channel_label", Value: ch.parent},
		{Name: "clone_original", Value: ""},
		{Name: "contentSources", Value: sources},
	}
	if len(ch.repos) > 0 && !ch.lastSync.IsZero() {
		s = append(s, rpc.Member{Name: "yumrepo_last_sync", Value: ch.lastSync})
	}
	return s
}

func channelListAllChannels(c *call) (any, *rpc.Fault) {
	out := make([]any, 0, len(c.st.channels))
	for _, ch := range c.st.channels {
		if ch.org != c.st.org.id {
			continue
		}
		out = append(out, rpc.Struct{
			{Name: "id", Value: ch.id},
			{Name: "label", Value: ch.label},
			{Name: "name", Value: ch.name},
			{Name: "provider_name", Value: c.st.org.name},
			{Name: "packages", Value: 0},
			{Name: "systems", Value: 0},
			{Name: "arch_name", Value: ch.arch.name},
		})
	}
	return out, nil
}
