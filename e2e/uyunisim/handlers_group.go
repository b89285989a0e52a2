package uyunisim

import (
	"slices"
	"strings"

	"github.com/hubgw/hubgw/gateway/rpc"
)

// System groups follow ServerGroupHandler, ServerGroupManager,
// ServerGroupFactory and ManagedServerGroupSerializer (paususe/uyuni, 2020);
// subscribeConfigChannel and listAssignedConfigChannels the current
// uyuni-project handler. Groups have no members in the simulator.

func (st *state) groupByID(id int64) *serverGroup {
	return find(st.groups, func(g *serverGroup) bool { return g.id == id })
}

func (st *state) groupByName(name string) *serverGroup {
	return find(st.groups, func(g *serverGroup) bool { return g.name == name })
}

func (st *state) groupStruct(g *serverGroup) rpc.Struct {
	return rpc.Struct{
		{Name: "id", Value: g.id},
		{Name: "name", Value: g.name},
		{Name: "description", Value: g.description},
		{Name: "system_count", Value: 0},
		{Name: "org_id", Value: st.org.id},
	}
}

// groupArg is ServerGroupHandler's own lookup (getDetails): 2201.
func (c *call) groupArg() (*serverGroup, *rpc.Fault) {
	if id, ok := c.integer("systemGroupId"); ok {
		if g := c.st.groupByID(id); g != nil {
			return g, nil
		}
		return nil, handlerFault(2201, `Unable to locate or access server group: "`+formatInt(id)+`"`)
	}
	name := c.str("systemGroupName")
	if g := c.st.groupByName(name); g != nil {
		return g, nil
	}
	return nil, handlerFault(2201, `Unable to locate or access server group: "`+name+`"`)
}

// groupByManager is ServerGroupManager.lookup, which update, delete and the
// config channel methods call directly: its LookupException is unhandled.
func (c *call) groupByManager() (*serverGroup, *rpc.Fault) {
	name := c.str("systemGroupName")
	if g := c.st.groupByName(name); g != nil {
		return g, nil
	}
	return nil, unhandled("Unable to locate or access server group: " + name)
}

// systemGroupCreate is ServerGroupFactory.create: a blank name is an
// IllegalArgumentException, a blank description becomes "none", a name in
// use is a DuplicateObjectException (both unhandled, -1).
func systemGroupCreate(c *call) (any, *rpc.Fault) {
	name, desc := c.str("name"), c.str("description")
	st := c.st
	if strings.TrimSpace(name) == "" {
		return nil, unhandled("ServerGroup create exception. Null value provided for the non null field -> 'name'.")
	}
	if strings.TrimSpace(desc) == "" {
		desc = "none"
	}
	if st.groupByName(name) != nil {
		return nil, unhandled("Duplicate server group requested to be created..Server Group with name -[" + name +
			"] and org - [" + st.org.name + "] already exists")
	}
	st.nextID++
	g := &serverGroup{id: st.nextID, name: name, description: desc}
	st.groups = append(st.groups, g)
	st.wrote()
	return st.groupStruct(g), nil
}

func systemGroupGetDetails(c *call) (any, *rpc.Fault) {
	g, f := c.groupArg()
	if f != nil {
		return nil, f
	}
	return c.st.groupStruct(g), nil
}

func systemGroupUpdate(c *call) (any, *rpc.Fault) {
	g, f := c.groupByManager()
	if f != nil {
		return nil, f
	}
	g.description = c.str("description")
	c.st.wrote()
	return c.st.groupStruct(g), nil
}

func systemGroupDelete(c *call) (any, *rpc.Fault) {
	g, f := c.groupByManager()
	if f != nil {
		return nil, f
	}
	st := c.st
	st.groups = slices.DeleteFunc(st.groups, func(x *serverGroup) bool { return x == g })
	for _, ak := range st.keys {
		ak.groups = without(ak.groups, []int64{g.id})
	}
	st.wrote()
	return 1, nil
}

func systemGroupListAllGroups(c *call) (any, *rpc.Fault) {
	out := make([]any, len(c.st.groups))
	for i, g := range c.st.groups {
		out[i] = c.st.groupStruct(g)
	}
	return out, nil
}

// systemGroupSubscribeConfigChannel adds the channels at the bottom of the
// group's ranking.
func systemGroupSubscribeConfigChannel(c *call) (any, *rpc.Fault) {
	g, f := c.groupByManager()
	if f != nil {
		return nil, f
	}
	labels, f := c.st.lookupConfigs(c.list("configChannelLabels"))
	if f != nil {
		return nil, f
	}
	g.configChannels = rank(g.configChannels, labels, false)
	c.st.wrote()
	return 1, nil
}

func systemGroupListAssignedConfigChannels(c *call) (any, *rpc.Fault) {
	g, f := c.groupByManager()
	if f != nil {
		return nil, f
	}
	return c.st.configChannelStructs(g.configChannels), nil
}

// userGetDetails is UserHandler.getDetails: org_id is the calling user's
// org, which is the prefix of its activation keys.
func userGetDetails(c *call) (any, *rpc.Fault) {
	u := c.st.admin
	if c.str("login") != u.login {
		return nil, handlerFault(-213, "No such user: "+c.str("login"))
	}
	return rpc.Struct{
		{Name: "first_names", Value: "Admin"},
		{Name: "first_name", Value: "Admin"},
		{Name: "last_name", Value: "Istrator"},
		{Name: "email", Value: u.login + "@example.org"},
		{Name: "prefix", Value: ""},
		{Name: "last_login_date", Value: ""},
		{Name: "created_date", Value: ""},
		{Name: "org_id", Value: c.st.org.id},
		{Name: "org_name", Value: c.st.org.name},
		{Name: "enabled", Value: true},
		{Name: "use_pam", Value: false},
		{Name: "read_only", Value: false},
		{Name: "errata_notification", Value: true},
	}, nil
}
