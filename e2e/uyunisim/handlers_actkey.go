package uyunisim

import (
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"regexp"
	"slices"
	"strconv"

	"github.com/hubgw/hubgw/gateway/rpc"
)

var activationKeyRe = regexp.MustCompile(`^[A-Za-z\d\-_.]+$`)

// entitlements are the add-on system types an activation key may carry.
func entitlements() []string {
	return []string{"ansible_control_node", "container_build_host", "monitoring_entitled",
		"osimage_build_host", "peripheral_server", "proxy_entitled", "virtualization_host"}
}

// activationKeyCreate: an empty key gets a generated one; the result is the
// key with its organisation prefix, "1-mykey".
func activationKeyCreate(c *call) (any, *rpc.Fault) {
	st := c.st
	name := c.str("key")
	if name == "" {
		b := make([]byte, 16)
		rand.Read(b)
		name = hex.EncodeToString(b)
	}
	if !activationKeyRe.MatchString(name) {
		return nil, handlerFault(1091, "Invalid activation key: only letters, numbers, '-', '_' and '.' are allowed")
	}
	key := strconv.Itoa(orgID) + "-" + name
	if st.keyByName[key] != nil {
		return nil, handlerFault(1090, "activation_key_already_exists")
	}
	base := c.str("baseChannelLabel")
	if base != "" {
		ch := st.channelByLabel[base]
		if ch == nil {
			return nil, handlerFault(-210, "No such channel: "+base)
		}
		if ch.parent != "" {
			return nil, handlerFault(-211, "Invalid channel: "+base+" is not a base channel")
		}
	}
	ents, f := stringList(c.list("entitlements"))
	if f != nil {
		return nil, f
	}
	for _, e := range ents {
		if !slices.Contains(entitlements(), e) {
			return nil, handlerFault(-212, "Invalid entitlement: "+e)
		}
	}
	limit, _ := c.integer("usageLimit")
	if limit < 0 {
		return nil, handlerFault(2800, "Usage limit must be 0 (unlimited) or greater.")
	}
	universal, _ := c.boolean("universalDefault")
	ak := &activationKey{key: key, description: c.str("description"), base: base, usageLimit: limit,
		entitlements: ents, universal: universal}
	if ak.description == "" {
		ak.description = "None"
	}
	st.keys = append(st.keys, ak)
	st.keyByName[key] = ak
	st.wrote()
	return key, nil
}

func (st *state) lookupKey(key string) (*activationKey, *rpc.Fault) {
	ak := st.keyByName[key]
	if ak == nil {
		return nil, handlerFault(10001, "No such activation key: "+key)
	}
	return ak, nil
}

func activationKeyStruct(ak *activationKey) rpc.Struct {
	base := ak.base
	if base == "" {
		base = "none"
	}
	return rpc.Struct{
		{Name: "key", Value: ak.key},
		{Name: "description", Value: ak.description},
		{Name: "usage_limit", Value: ak.usageLimit},
		{Name: "base_channel_label", Value: base},
		{Name: "child_channel_labels", Value: strs(ak.childChannels)},
		{Name: "entitlements", Value: strs(ak.entitlements)},
		{Name: "server_group_ids", Value: []any{}},
		{Name: "package_names", Value: []any{}},
		{Name: "packages", Value: []any{}},
		{Name: "universal_default", Value: ak.universal},
		{Name: "disabled", Value: false},
		{Name: "contact_method", Value: "default"},
	}
}

func activationKeyList(c *call) (any, *rpc.Fault) {
	out := make([]any, len(c.st.keys))
	for i, ak := range c.st.keys {
		out[i] = activationKeyStruct(ak)
	}
	return out, nil
}

func activationKeyGetDetails(c *call) (any, *rpc.Fault) {
	ak, f := c.st.lookupKey(c.str("key"))
	if f != nil {
		return nil, f
	}
	return activationKeyStruct(ak), nil
}

func activationKeyAddChildChannels(c *call) (any, *rpc.Fault) {
	ak, f := c.st.lookupKey(c.str("key"))
	if f != nil {
		return nil, f
	}
	labels, f := stringList(c.list("childChannelLabels"))
	if f != nil {
		return nil, f
	}
	for _, l := range labels {
		ch := c.st.channelByLabel[l]
		if ch == nil {
			return nil, handlerFault(-210, "No such channel: "+l)
		}
		if ch.parent == "" {
			return nil, handlerFault(-211, fmt.Sprintf("Invalid channel: %s is not a child channel", l))
		}
	}
	for _, l := range labels {
		if !slices.Contains(ak.childChannels, l) {
			ak.childChannels = append(ak.childChannels, l)
		}
	}
	c.st.wrote()
	return 1, nil
}

func activationKeyAddConfigChannels(c *call) (any, *rpc.Fault) {
	names, f := stringList(c.list("keys"))
	if f != nil {
		return nil, f
	}
	labels, f := stringList(c.list("configChannelLabels"))
	if f != nil {
		return nil, f
	}
	top, _ := c.boolean("addToTop")
	var keys []*activationKey
	for _, n := range names {
		ak, f := c.st.lookupKey(n)
		if f != nil {
			return nil, f
		}
		keys = append(keys, ak)
	}
	for _, l := range labels {
		if _, f := c.st.lookupConfig(l); f != nil {
			return nil, f
		}
	}
	for _, ak := range keys {
		var add []string
		for _, l := range labels {
			if !slices.Contains(ak.configChannels, l) {
				add = append(add, l)
			}
		}
		if top {
			ak.configChannels = append(add, ak.configChannels...)
		} else {
			ak.configChannels = append(ak.configChannels, add...)
		}
	}
	c.st.wrote()
	return 1, nil
}
