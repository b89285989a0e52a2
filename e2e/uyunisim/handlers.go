package uyunisim

import (
	"time"

	"github.com/hubgw/hubgw/gateway/rpc"
)

// handler simulates one API method (all its overloads).
type handler struct {
	fn func(c *call) (any, *rpc.Fault)
	// read marks a method whose answer depends on the arguments and the
	// server's state only: it is encoded once and served from the cache
	// until the next write.
	read bool
}

// newHandlers lists every simulated method. Methods in the catalog but not
// here answer a fault saying so.
func newHandlers() map[string]handler {
	return map[string]handler{
		"auth.login":  {fn: authLogin},
		"auth.logout": {fn: authLogout},

		"api.getVersion":              {fn: apiGetVersion, read: true},
		"api.systemVersion":           {fn: apiSystemVersion, read: true},
		"api.productName":             {fn: func(*call) (any, *rpc.Fault) { return "Uyuni", nil }, read: true},
		"api.getApiNamespaces":        {fn: apiGetApiNamespaces},
		"api.getApiCallList":          {fn: apiGetApiCallList},
		"api.getApiNamespaceCallList": {fn: apiGetApiNamespaceCallList},

		"channel.listAllChannels":     {fn: channelListAllChannels, read: true},
		"channel.software.create":     {fn: channelSoftwareCreate},
		"channel.software.listArches": {fn: channelSoftwareListArches, read: true},
		"channel.software.getDetails": {fn: channelSoftwareGetDetails, read: true},

		"configchannel.create":             {fn: configChannelCreate},
		"configchannel.createOrUpdatePath": {fn: configChannelCreateOrUpdatePath},
		"configchannel.channelExists":      {fn: configChannelExists, read: true},
		"configchannel.listGlobals":        {fn: configChannelListGlobals, read: true},
		"configchannel.deployAllSystems":   {fn: configChannelDeployAllSystems},

		"activationkey.create":             {fn: activationKeyCreate},
		"activationkey.listActivationKeys": {fn: activationKeyList, read: true},
		"activationkey.getDetails":         {fn: activationKeyGetDetails, read: true},
		"activationkey.addChildChannels":   {fn: activationKeyAddChildChannels},
		"activationkey.addConfigChannels":  {fn: activationKeyAddConfigChannels},

		"system.listSystems":                {fn: systemListSystems, read: true},
		"system.listUserSystems":            {fn: systemListUserSystems, read: true},
		"system.listFqdns":                  {fn: systemListFqdns, read: true},
		"system.listSystemsWithEntitlement": {fn: systemListSystemsWithEntitlement, read: true},
		"sync.hub.listPeripheralServers":    {fn: syncHubListPeripheralServers, read: true},

		"org.listOrgs":             {fn: orgListOrgs, read: true},
		"user.listUsers":           {fn: userListUsers, read: true},
		"user.listAssignableRoles": {fn: userListAssignableRoles, read: true},
	}
}

// Arguments by Java parameter name; dispatch already converted each to its
// declared type, so the assertions hold. ok is false when the chosen
// overload has no such parameter.

func (c *call) arg(name string) (any, bool) {
	for i, p := range c.m.Params {
		if p.Name == name {
			return c.args[i], true
		}
	}
	return nil, false
}

func (c *call) str(name string) string {
	v, _ := c.arg(name)
	s, _ := v.(string)
	return s
}

func (c *call) integer(name string) (int64, bool) {
	v, ok := c.arg(name)
	n, _ := v.(int64)
	return n, ok
}

func (c *call) boolean(name string) (bool, bool) {
	v, ok := c.arg(name)
	b, _ := v.(bool)
	return b, ok
}

func (c *call) strct(name string) (rpc.Struct, bool) {
	v, ok := c.arg(name)
	s, _ := v.(rpc.Struct)
	return s, ok
}

func (c *call) list(name string) []any {
	v, _ := c.arg(name)
	l, _ := v.([]any)
	return l
}

func (c *call) now() time.Time { return c.st.now() }

// strings reads a List<String>. A value of another class is the
// ClassCastException the handler's Java code would throw.
func stringList(l []any) ([]string, *rpc.Fault) {
	out := make([]string, len(l))
	for i, v := range l {
		s, ok := v.(string)
		if !ok {
			return nil, castFault(v, "java.lang.String")
		}
		out[i] = s
	}
	return out, nil
}

// memberString reads a String member of a Map<String,String>; absent and
// null read as "".
func memberString(s rpc.Struct, name string) (string, *rpc.Fault) {
	v, ok := s.Get(name)
	if !ok || v == nil {
		return "", nil
	}
	str, ok := v.(string)
	if !ok {
		return "", castFault(v, "java.lang.String")
	}
	return str, nil
}

func castFault(v any, want string) *rpc.Fault {
	return unhandled("class " + classOf(v).name() + " cannot be cast to class " + want)
}

// strs turns []string into the []any the encoder writes as an array.
func strs(ss []string) []any {
	out := make([]any, len(ss))
	for i, s := range ss {
		out[i] = s
	}
	return out
}

// auth

func authLogin(c *call) (any, *rpc.Fault) {
	u := c.st.admin
	if c.str("username") != u.login || c.str("password") != u.password {
		return nil, handlerFault(2950, "Either the password or username is incorrect.")
	}
	lifetime := c.st.ttl
	if d, ok := c.integer("durationIn"); ok {
		lifetime = time.Duration(d) * time.Second
	}
	return c.st.login(u, lifetime), nil
}

// authLogout is AuthHandler.logout: the key arrives as a string and the
// session is looked up inside the handler, so its exceptions come through
// the ExceptionTranslator, unlike those of every other method.
func authLogout(c *call) (any, *rpc.Fault) {
	s, jerr := c.st.lookupByKey(c.str("sessionKey"))
	if jerr != nil {
		return nil, unhandled(jerr.msg)
	}
	delete(c.st.sessions, s.id)
	return 1, nil
}

// api

// versions are what api.getVersion and api.systemVersion answer for the
// Uyuni each discovery mode stands for.
func versions(mode string) (api, system string) {
	switch mode {
	case DiscoveryLegacy:
		return "25", "2021.06"
	case DiscoveryEntitlement:
		return "26", "2024.08"
	}
	return "27", "2025.10"
}

func apiGetVersion(c *call) (any, *rpc.Fault) {
	v, _ := versions(c.srv.sim.surface.mode)
	return v, nil
}

func apiSystemVersion(c *call) (any, *rpc.Fault) {
	_, v := versions(c.srv.sim.surface.mode)
	return v, nil
}

func apiGetApiNamespaces(c *call) (any, *rpc.Fault) {
	return preEncoded(c.srv.sim.surface.namespacesResp), nil
}

func apiGetApiCallList(c *call) (any, *rpc.Fault) {
	return preEncoded(c.srv.sim.surface.callListResp), nil
}

func apiGetApiNamespaceCallList(c *call) (any, *rpc.Fault) {
	name := c.str("namespace")
	ns := c.srv.sim.surface.byName[name]
	if ns == nil {
		return nil, unhandled("Handler " + name + " not found.")
	}
	return preEncoded(ns.callListResp), nil
}
