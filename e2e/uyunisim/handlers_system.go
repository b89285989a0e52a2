package uyunisim

import (
	"fmt"
	"slices"
	"strings"

	"github.com/hubgw/hubgw/gateway/rpc"
)

// systemStruct is Uyuni's SystemOverview as system.listSystems and its
// siblings return it.
func systemStruct(s system) rpc.Struct {
	return rpc.Struct{
		{Name: "id", Value: s.id},
		{Name: "name", Value: s.name},
		{Name: "last_checkin", Value: s.lastCheckin},
		{Name: "created", Value: s.created},
		{Name: "last_boot", Value: s.lastBoot},
		{Name: "extra_pkg_count", Value: 0},
		{Name: "outdated_pkg_count", Value: s.outdated},
	}
}

func systemList(systems []system) []any {
	out := make([]any, len(systems))
	for i, s := range systems {
		out[i] = systemStruct(s)
	}
	return out
}

// systemListSystems: a peripheral's minions; on the hub, the peripherals
// (a hub's systems are its peripherals, which is what legacy discovery
// reads). They are the admin's org's: a user of another org sees none
// (SystemHandler.listSystems lists SystemManager.systemListShort of the
// logged-in user, which holds the systems that user may see).
func systemListSystems(c *call) (any, *rpc.Fault) {
	if u, ok := c.sessionUser(); ok && u.org != c.st.org.id {
		return []any{}, nil
	}
	return systemList(c.st.systems), nil
}

func systemListUserSystems(c *call) (any, *rpc.Fault) {
	if _, ok := c.arg("login"); ok && c.str("login") != c.st.admin.login {
		return nil, handlerFault(-213, "No such user: "+c.str("login"))
	}
	return systemList(c.st.systems), nil
}

// systemListSystemsWithEntitlement: the hub's peripherals carry the
// peripheral_server entitlement; nothing else carries any add-on.
func systemListSystemsWithEntitlement(c *call) (any, *rpc.Fault) {
	ent := c.str("entitlementName")
	if c.srv.role == RoleHub && ent == "peripheral_server" {
		return systemList(c.st.systems), nil
	}
	return []any{}, nil
}

func systemListFqdns(c *call) (any, *rpc.Fault) {
	sid, _ := c.integer("sid")
	s, ok := c.st.findSystem(sid)
	if !ok {
		return nil, handlerFault(-208, fmt.Sprintf("No such system - sid = %d", sid))
	}
	return []any{s.fqdn}, nil
}

// syncHubListPeripheralServers reports each peripheral by its system id on
// the hub, so every discovery mode yields the same ids. A peripheral has no
// peripherals.
func syncHubListPeripheralServers(c *call) (any, *rpc.Fault) {
	if c.srv.role != RoleHub {
		return []any{}, nil
	}
	ps := c.srv.sim.peripherals
	out := make([]any, len(ps))
	for i, p := range ps {
		out[i] = rpc.Struct{
			{Name: "fqdn", Value: p.FQDN()},
			{Name: "id", Value: p.id},
			{Name: "root_ca", Value: c.srv.sim.rootCA},
		}
	}
	return out, nil
}

// The channels Hub Online Sync keeps on a peripheral (HubHandler,
// HubManager): only on the hub, for a registered peripheral ("<fqdn> is not
// registered as peripheral", an IllegalStateException the handler turns
// into InvalidParameterException, 1213, "Error while ..."); adding names
// channels of the hub ("Channel with label [x] does not exist", an
// IllegalArgumentException: "Invalid parameter while ..."). The sim does
// not copy the channels to the peripheral (syncPeripheralChannels).
func (c *call) syncedPeripheral(verb string) (string, *rpc.Fault) {
	fqdn := c.str("fqdn")
	if c.srv.role == RoleHub {
		for _, p := range c.srv.sim.peripherals {
			if p.FQDN() == fqdn {
				return fqdn, nil
			}
		}
	}
	return "", handlerFault(rpc.CodeInvalidParameter, fmt.Sprintf("Error while %s peripheral channels to sync for %s", verb, fqdn))
}

func syncHubListChannelsToSync(c *call) (any, *rpc.Fault) {
	fqdn, f := c.syncedPeripheral("listing")
	if f != nil {
		return nil, f
	}
	out := []any{}
	for _, l := range c.st.hubSync[fqdn] {
		out = append(out, l)
	}
	return out, nil
}

func syncHubChangeChannelsToSync(add bool) func(c *call) (any, *rpc.Fault) {
	verb := map[bool]string{true: "adding", false: "removing"}[add]
	return func(c *call) (any, *rpc.Fault) {
		fqdn, f := c.syncedPeripheral(verb)
		if f != nil {
			return nil, f
		}
		labels := c.st.hubSync[fqdn]
		for _, v := range c.list("channelLabels") {
			l, _ := v.(string)
			if _, ok := c.st.channelByLabel[l]; !ok {
				return nil, handlerFault(rpc.CodeInvalidParameter, fmt.Sprintf("Invalid parameter while %s peripheral channels to sync for %s", verb, fqdn))
			}
			labels = slices.DeleteFunc(labels, func(x string) bool { return x == l })
			if add {
				labels = append(labels, l)
			}
		}
		c.st.hubSync[fqdn] = labels
		return 1, nil
	}
}

func orgListOrgs(c *call) (any, *rpc.Fault) {
	return []any{rpc.Struct{
		{Name: "id", Value: c.st.org.id},
		{Name: "name", Value: c.st.org.name},
		{Name: "active_users", Value: 1},
		{Name: "systems", Value: len(c.st.systems)},
		{Name: "trusts", Value: 0},
		{Name: "system_groups", Value: len(c.st.groups)},
		{Name: "activation_keys", Value: len(c.st.keys)},
		{Name: "kickstart_profiles", Value: 0},
		{Name: "configuration_channels", Value: len(c.st.configs)},
		{Name: "staging_content_enabled", Value: false},
	}}, nil
}

func userListUsers(c *call) (any, *rpc.Fault) {
	u := c.st.admin
	return []any{rpc.Struct{
		{Name: "id", Value: u.id},
		{Name: "login", Value: u.login},
		{Name: "login_uc", Value: strings.ToUpper(u.login)},
		{Name: "enabled", Value: true},
	}}, nil
}

func userListAssignableRoles(*call) (any, *rpc.Fault) {
	return strs([]string{"activation_key_admin", "channel_admin", "config_admin", "image_admin",
		"org_admin", "system_group_admin"}), nil
}
