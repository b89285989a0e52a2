package uyunisim

import (
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/hubgw/hubgw/gateway/rpc"
)

// Activation keys follow ActivationKeyHandler, XmlRpcActivationKeysHelper,
// ActivationKeyManager, ActivationKeyFactory, ActivationKey, Token and
// TokenSerializer (paususe/uyuni, 2020).

// entitlements are the add-on system types an activation key may carry.
func entitlements() []string {
	return []string{"ansible_control_node", "container_build_host", "monitoring_entitled",
		"osimage_build_host", "peripheral_server", "proxy_entitled", "virtualization_host"}
}

// contactMethods are ServerFactory's contact method labels.
func contactMethods() []string { return []string{"default", "ssh-push", "ssh-push-tunnel"} }

// keyAdminFault is the code ActivationKeyHandler.create gives every
// ValidatorException of the manager and factory.
const keyAdminFault = 1091

// scrub is Scrubber.scrub: trim, then remove < > ( ) { }.
func scrub(s string) string {
	return strings.NewReplacer("<", "", ">", "", "(", "", ")", "", "{", "", "}", "").Replace(strings.TrimSpace(s))
}

// activationKeyCreate is ActivationKeyHandler.create (both overloads): the
// base channel is checked first (-211), then the form's limits (2800), the
// add-on entitlements and the key itself (1091). The key loses its spaces
// and Scrubber's characters and gets the admin's "<org>-" prefix; only ','
// and '"' are refused. An empty key is generated.
func activationKeyCreate(c *call) (any, *rpc.Fault) {
	st := c.st
	baseLabel := c.str("baseChannelLabel")
	var base *channel
	if strings.TrimSpace(baseLabel) != "" {
		var f *rpc.Fault
		if base, f = st.keyBaseChannel(baseLabel); f != nil {
			return nil, f
		}
	}
	name, desc := c.str("key"), c.str("description")
	limit, hasLimit := c.integer("usageLimit")
	switch {
	case len(desc) > 2048:
		return nil, handlerFault(2800, "Description must be at most 2048 characters long.")
	case len(name) > 45:
		return nil, handlerFault(2800, "Key must be at most 45 characters long.")
	case hasLimit && limit < 0:
		return nil, handlerFault(2800, "Usage limit must be 0 (unlimited) or greater.")
	}
	ents, f := stringList(c.list("entitlements"))
	if f != nil {
		return nil, f
	}
	if bad := invalidEntitlement(ents); bad != "" {
		return nil, handlerFault(keyAdminFault, entitlementMessage(bad))
	}
	if name == "" {
		b := make([]byte, 16)
		rand.Read(b)
		name = hex.EncodeToString(b)
	}
	key := strconv.FormatInt(st.org.id, 10) + "-" + scrub(strings.ReplaceAll(name, " ", ""))
	if strings.ContainsAny(key, `,"`) {
		return nil, handlerFault(keyAdminFault, "Activation key label <strong>"+key+
			"</strong> has one or more of the following invalid characters <strong>[, \"]</strong>. Please remove these characters from the label.")
	}
	if st.keyByName[key] != nil {
		return nil, handlerFault(keyAdminFault, "An activation key with label '"+key+"' is already taken. Please choose a different label.")
	}
	if strings.TrimSpace(desc) == "" {
		desc = "None" // ActivationKeyFactory.DEFAULT_DESCRIPTION
	}
	ak := &activationKey{key: key, description: scrub(desc), entitlements: slices.Compact(slices.Clone(ents)), contactMethod: "default"}
	if base != nil {
		ak.base = base.label
	}
	if hasLimit {
		ak.usageLimit = &limit
	}
	if universal, _ := c.boolean("universalDefault"); universal {
		st.defaultKey = ak
	}
	st.keys = append(st.keys, ak)
	st.keyByName[key] = ak
	st.wrote()
	return key, nil
}

func invalidEntitlement(ents []string) string {
	for _, e := range ents {
		if !slices.Contains(entitlements(), e) {
			return e
		}
	}
	return ""
}

// entitlementMessage is system.entitle.invalid_addon_entitlement.
func entitlementMessage(label string) string {
	return "Invalid add-on entitlement [" + label + "] provided. No such entitlement exists."
}

// keyBaseChannel is how create and setDetails resolve a base channel: a
// lookup failure is wrapped in InvalidChannelException, whose message is
// then its default.
func (st *state) keyBaseChannel(label string) (*channel, *rpc.Fault) {
	ch := st.visibleChannel(label)
	if ch == nil {
		return nil, handlerFault(-211, "Invalid channel")
	}
	if ch.parent != "" {
		return nil, handlerFault(-211, ch.name+" is not a base channel.")
	}
	return ch, nil
}

// lookupKey is XmlRpcActivationKeysHelper.lookupKey. -212 is also
// InvalidEntitlementException's code: the message tells them apart.
func (st *state) lookupKey(key string) (*activationKey, *rpc.Fault) {
	ak := st.keyByName[key]
	if ak == nil {
		return nil, handlerFault(-212, "Activation Key ["+key+"] Not Found!")
	}
	return ak, nil
}

// lookupKeys is XmlRpcActivationKeysHelper.lookupKeys.
func (st *state) lookupKeys(l []any) ([]*activationKey, *rpc.Fault) {
	names, f := stringList(l)
	if f != nil {
		return nil, f
	}
	out := make([]*activationKey, 0, len(names))
	for _, n := range names {
		ak, f := st.lookupKey(n)
		if f != nil {
			return nil, f
		}
		out = append(out, ak)
	}
	return out, nil
}

// keyArg looks up the key named by the call's "key" parameter.
func (c *call) keyArg() (*activationKey, *rpc.Fault) { return c.st.lookupKey(c.str("key")) }

func (st *state) activationKeyStruct(ak *activationKey) rpc.Struct {
	base := ak.base
	if base == "" {
		base = "none"
	}
	var limit int64 // TokenSerializer: 0 for unlimited too
	if ak.usageLimit != nil {
		limit = *ak.usageLimit
	}
	groups := make([]any, len(ak.groups))
	for i, g := range ak.groups {
		groups[i] = g
	}
	pkgNames := make([]any, len(ak.packages))
	pkgs := make([]any, len(ak.packages))
	for i, p := range ak.packages {
		pkgNames[i] = p.name
		m := rpc.Struct{{Name: "name", Value: p.name}}
		if p.arch != "" {
			m = append(m, rpc.Member{Name: "arch", Value: p.arch})
		}
		pkgs[i] = m
	}
	return rpc.Struct{
		{Name: "key", Value: ak.key},
		{Name: "description", Value: ak.description},
		{Name: "usage_limit", Value: limit},
		{Name: "base_channel_label", Value: base},
		{Name: "child_channel_labels", Value: strs(ak.childChannels)},
		{Name: "entitlements", Value: strs(ak.entitlements)},
		{Name: "server_group_ids", Value: groups},
		{Name: "package_names", Value: pkgNames},
		{Name: "packages", Value: pkgs},
		{Name: "universal_default", Value: st.defaultKey == ak},
		{Name: "disabled", Value: ak.disabled},
		{Name: "contact_method", Value: ak.contactMethod},
	}
}

func activationKeyList(c *call) (any, *rpc.Fault) {
	out := make([]any, len(c.st.keys))
	for i, ak := range c.st.keys {
		out[i] = c.st.activationKeyStruct(ak)
	}
	return out, nil
}

func activationKeyGetDetails(c *call) (any, *rpc.Fault) {
	ak, f := c.keyArg()
	if f != nil {
		return nil, f
	}
	return c.st.activationKeyStruct(ak), nil
}

func activationKeyDelete(c *call) (any, *rpc.Fault) {
	ak, f := c.keyArg()
	if f != nil {
		return nil, f
	}
	st := c.st
	st.keys = slices.DeleteFunc(st.keys, func(k *activationKey) bool { return k == ak })
	delete(st.keyByName, ak.key)
	if st.defaultKey == ak {
		st.defaultKey = nil
	}
	st.wrote()
	return 1, nil
}

// activationKeySetDetails: the map is validated before the key is looked
// up; every value is checked before anything changes (the call is one
// transaction). A new base channel clears the child channels
// (Token.setBaseChannel).
func activationKeySetDetails(c *call) (any, *rpc.Fault) {
	details, _ := c.strct("details")
	if f := validateMap(details, "description", "base_channel_label", "usage_limit", "unlimited_usage_limit",
		"universal_default", "disabled", "contact_method"); f != nil {
		return nil, f
	}
	ak, f := c.keyArg()
	if f != nil {
		return nil, f
	}
	st := c.st
	next := *ak
	if v, ok := details.Get("base_channel_label"); ok {
		label, f := asString(v)
		if f != nil {
			return nil, f
		}
		next.base = ""
		if label != "" && label != "none" {
			ch, f := st.keyBaseChannel(label)
			if f != nil {
				return nil, f
			}
			next.base = ch.label
		}
	}
	if v, ok := details.Get("description"); ok {
		d, f := asString(v)
		if f != nil {
			return nil, f
		}
		next.description = scrub(d)
	}
	if v, ok := details.Get("usage_limit"); ok {
		n, ok := v.(int64)
		if !ok {
			return nil, castFault(v, "java.lang.Integer")
		}
		next.usageLimit = &n
	}
	universal := st.defaultKey == ak
	for _, b := range []struct {
		name string
		set  func(bool)
	}{
		{"unlimited_usage_limit", func(v bool) {
			if v {
				next.usageLimit = nil
			}
		}},
		{"universal_default", func(v bool) { universal = v }},
		{"disabled", func(v bool) { next.disabled = v }},
	} {
		if v, ok := details.Get(b.name); ok {
			x, ok := v.(bool)
			if !ok {
				return nil, castFault(v, "java.lang.Boolean")
			}
			b.set(x)
		}
	}
	if v, ok := details.Get("contact_method"); ok {
		m, f := asString(v)
		if f != nil {
			return nil, f
		}
		if !slices.Contains(contactMethods(), m) {
			return nil, handlerFault(-1, "Invalid contact method: "+m)
		}
		next.contactMethod = m
	}
	if next.base != ak.base {
		next.childChannels = nil
	}
	*ak = next
	switch {
	case universal:
		st.defaultKey = ak
	case st.defaultKey == ak:
		st.defaultKey = nil
	}
	st.wrote()
	return 1, nil
}

// keyChildChannels resolves child channel labels as add/removeChildChannels
// do; add also requires the key's base to be their parent.
func (st *state) keyChildChannels(ak *activationKey, l []any, adding bool) ([]string, *rpc.Fault) {
	labels, f := stringList(l)
	if f != nil {
		return nil, f
	}
	for _, label := range labels {
		ch := st.visibleChannel(label)
		switch {
		case ch == nil:
			return nil, handlerFault(-211, "Invalid channel")
		case ch.parent == "":
			return nil, handlerFault(-211, ch.name+" is not a child channel.")
		case adding && ak.base != "" && ak.base != ch.parent:
			return nil, handlerFault(-211, fmt.Sprintf("%s is not a child channel of parent %s which is already used by this key",
				ch.name, st.channelByLabel[ak.base].name))
		}
	}
	return labels, nil
}

func activationKeyAddChildChannels(c *call) (any, *rpc.Fault) {
	ak, f := c.keyArg()
	if f != nil {
		return nil, f
	}
	labels, f := c.st.keyChildChannels(ak, c.list("childChannelLabels"), true)
	if f != nil {
		return nil, f
	}
	ak.childChannels = appendNew(ak.childChannels, labels...)
	c.st.wrote()
	return 1, nil
}

func activationKeyRemoveChildChannels(c *call) (any, *rpc.Fault) {
	ak, f := c.keyArg()
	if f != nil {
		return nil, f
	}
	labels, f := c.st.keyChildChannels(ak, c.list("childChannelLabels"), false)
	if f != nil {
		return nil, f
	}
	ak.childChannels = without(ak.childChannels, labels)
	c.st.wrote()
	return 1, nil
}

// activationKeyEntitlements is add/removeEntitlements: the manager's
// ValidatorException is not caught, so a bad label is an unhandled -1.
func activationKeyEntitlements(add bool) func(c *call) (any, *rpc.Fault) {
	return func(c *call) (any, *rpc.Fault) {
		ak, f := c.keyArg()
		if f != nil {
			return nil, f
		}
		ents, f := stringList(c.list("entitlements"))
		if f != nil {
			return nil, f
		}
		if bad := invalidEntitlement(ents); bad != "" {
			return nil, unhandled("ERRORS:\n" + entitlementMessage(bad) + "\n")
		}
		if add {
			ak.entitlements = appendNew(ak.entitlements, ents...)
		} else {
			ak.entitlements = without(ak.entitlements, ents)
		}
		c.st.wrote()
		return 1, nil
	}
}

// activationKeyPackages is add/removePackages: every map is validated
// first (2801), then the key; addPackages refuses a name with a space.
// Unknown names are created (lookupOrCreatePackageByName).
func activationKeyPackages(add bool) func(c *call) (any, *rpc.Fault) {
	return func(c *call) (any, *rpc.Fault) {
		var pkgs []keyPackage
		for _, v := range c.list("packages") {
			m, ok := v.(rpc.Struct)
			if !ok {
				return nil, castFault(v, "java.util.Map")
			}
			if f := validateMap(m, "name", "arch"); f != nil {
				return nil, f
			}
			name, f := memberString(m, "name")
			if f != nil {
				return nil, f
			}
			arch, f := memberString(m, "arch")
			if f != nil {
				return nil, f
			}
			pkgs = append(pkgs, keyPackage{name, arch})
		}
		ak, f := c.keyArg()
		if f != nil {
			return nil, f
		}
		for _, p := range pkgs {
			if add && strings.Contains(p.name, " ") {
				return nil, handlerFault(2801, "Invalid argument(s): More than one package names are specified.")
			}
		}
		for _, p := range pkgs {
			ak.packages = slices.DeleteFunc(ak.packages, func(q keyPackage) bool { return q == p })
			if add {
				ak.packages = append(ak.packages, p)
			}
		}
		c.st.wrote()
		return 1, nil
	}
}

// activationKeyServerGroups is add/removeServerGroups: ids are the
// server's own group ids; an unknown one is 2200.
func activationKeyServerGroups(add bool) func(c *call) (any, *rpc.Fault) {
	return func(c *call) (any, *rpc.Fault) {
		ak, f := c.keyArg()
		if f != nil {
			return nil, f
		}
		var ids []int64
		for _, v := range c.list("serverGroupIds") {
			id, ok := v.(int64)
			if !ok {
				return nil, castFault(v, "java.lang.Integer")
			}
			if c.st.groupByID(id) == nil {
				return nil, handlerFault(2200, "Invalid server group")
			}
			ids = append(ids, id)
		}
		if add {
			ak.groups = appendNew(ak.groups, ids...)
		} else {
			ak.groups = without(ak.groups, ids)
		}
		c.st.wrote()
		return 1, nil
	}
}

func activationKeyListConfigChannels(c *call) (any, *rpc.Fault) {
	ak, f := c.keyArg()
	if f != nil {
		return nil, f
	}
	return c.st.configChannelStructs(ak.configChannels), nil
}

// keysAndConfigs resolves the (keys, configChannelLabels) pair of the
// config channel methods: keys first (-212), then channels (-210).
func (c *call) keysAndConfigs() ([]*activationKey, []string, *rpc.Fault) {
	keys, f := c.st.lookupKeys(c.list("keys"))
	if f != nil {
		return nil, nil, f
	}
	labels, f := c.st.lookupConfigs(c.list("configChannelLabels"))
	if f != nil {
		return nil, nil, f
	}
	return keys, labels, nil
}

// activationKeySetConfigChannels replaces each key's config channels,
// ranked in the order given (ConfigChannelListProcessor.replace).
func activationKeySetConfigChannels(c *call) (any, *rpc.Fault) {
	keys, labels, f := c.keysAndConfigs()
	if f != nil {
		return nil, f
	}
	for _, ak := range keys {
		ak.configChannels = slices.Compact(slices.Clone(labels))
	}
	c.st.wrote()
	return 1, nil
}

// activationKeyAddConfigChannels: a channel already subscribed moves to its
// new rank, as ConfigChannelListProcessor.add does.
func activationKeyAddConfigChannels(c *call) (any, *rpc.Fault) {
	keys, labels, f := c.keysAndConfigs()
	if f != nil {
		return nil, f
	}
	top, _ := c.boolean("addToTop")
	for _, ak := range keys {
		ak.configChannels = rank(ak.configChannels, labels, top)
	}
	c.st.wrote()
	return 1, nil
}

func activationKeyRemoveConfigChannels(c *call) (any, *rpc.Fault) {
	keys, labels, f := c.keysAndConfigs()
	if f != nil {
		return nil, f
	}
	for _, ak := range keys {
		ak.configChannels = without(ak.configChannels, labels)
	}
	c.st.wrote()
	return 1, nil
}

// rank puts labels at the top or the bottom of list, moving those already in it.
func rank(list, labels []string, top bool) []string {
	rest := without(list, labels)
	labels = appendNew(nil, labels...)
	if top {
		return append(labels, rest...)
	}
	return append(rest, labels...)
}

func activationKeyConfigDeployment(set *bool) func(c *call) (any, *rpc.Fault) {
	return func(c *call) (any, *rpc.Fault) {
		ak, f := c.keyArg()
		if f != nil {
			return nil, f
		}
		if set == nil {
			return boolInt(ak.deployConfigs), nil
		}
		ak.deployConfigs = *set
		c.st.wrote()
		return 1, nil
	}
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}

// appendNew appends the values not yet in list.
func appendNew[T comparable](list []T, vs ...T) []T {
	for _, v := range vs {
		if !slices.Contains(list, v) {
			list = append(list, v)
		}
	}
	return list
}

// without is list minus vs, in list's order.
func without[T comparable](list, vs []T) []T {
	out := make([]T, 0, len(list))
	for _, v := range list {
		if !slices.Contains(vs, v) {
			out = append(out, v)
		}
	}
	return out
}
