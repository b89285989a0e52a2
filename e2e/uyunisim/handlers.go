package uyunisim

import (
	"slices"
	"strconv"
	"strings"
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

		"channel.listAllChannels":                    {fn: channelListAllChannels, read: true},
		"channel.software.create":                    {fn: channelSoftwareCreate},
		"channel.software.listArches":                {fn: channelSoftwareListArches, read: true},
		"channel.software.getDetails":                {fn: channelSoftwareGetDetails, read: true},
		"channel.software.isExisting":                {fn: channelSoftwareIsExisting, read: true},
		"channel.software.setDetails":                {fn: channelSoftwareSetDetails},
		"channel.software.setContactDetails":         {fn: channelSoftwareSetContactDetails},
		"channel.software.listChildren":              {fn: channelSoftwareListChildren, read: true},
		"channel.software.delete":                    {fn: channelSoftwareDelete},
		"channel.software.createRepo":                {fn: channelSoftwareCreateRepo},
		"channel.software.getRepoDetails":            {fn: channelSoftwareGetRepoDetails, read: true},
		"channel.software.listChannelRepos":          {fn: channelSoftwareListChannelRepos, read: true},
		"channel.software.listUserRepos":             {fn: channelSoftwareListUserRepos, read: true},
		"channel.software.associateRepo":             {fn: channelSoftwareAssociateRepo(true)},
		"channel.software.disassociateRepo":          {fn: channelSoftwareAssociateRepo(false)},
		"channel.software.updateRepoUrl":             {fn: channelSoftwareUpdateRepoURL},
		"channel.software.removeRepo":                {fn: channelSoftwareRemoveRepo},
		"channel.software.syncRepo":                  {fn: channelSoftwareSyncRepo},
		"channel.software.getRepoSyncCronExpression": {fn: channelSoftwareGetRepoSyncCronExpression, read: true},
		"channel.access.getOrgSharing":               {fn: channelAccessGetOrgSharing, read: true},
		"channel.access.setOrgSharing":               {fn: channelAccessSetOrgSharing},

		"configchannel.create":                 {fn: configChannelCreate},
		"configchannel.getDetails":             {fn: configChannelGetDetails, read: true},
		"configchannel.update":                 {fn: configChannelUpdate},
		"configchannel.createOrUpdatePath":     {fn: configChannelCreateOrUpdatePath},
		"configchannel.createOrUpdateSymlink":  {fn: configChannelCreateOrUpdateSymlink},
		"configchannel.updateInitSls":          {fn: configChannelUpdateInitSls},
		"configchannel.channelExists":          {fn: configChannelExists, read: true},
		"configchannel.listGlobals":            {fn: configChannelListGlobals, read: true},
		"configchannel.listFiles":              {fn: configChannelListFiles, read: true},
		"configchannel.lookupFileInfo":         {fn: configChannelLookupFileInfo, read: true},
		"configchannel.getFileRevisions":       {fn: configChannelGetFileRevisions, read: true},
		"configchannel.getFileRevision":        {fn: configChannelGetFileRevision(false), read: true},
		"configchannel.getEncodedFileRevision": {fn: configChannelGetFileRevision(true), read: true},
		"configchannel.deleteFiles":            {fn: configChannelDeleteFiles},
		"configchannel.listSubscribedSystems":  {fn: configChannelListSubscribedSystems, read: true},
		"configchannel.deployAllSystems":       {fn: configChannelDeployAllSystems},

		"activationkey.create":                  {fn: activationKeyCreate},
		"activationkey.delete":                  {fn: activationKeyDelete},
		"activationkey.listActivationKeys":      {fn: activationKeyList, read: true},
		"activationkey.getDetails":              {fn: activationKeyGetDetails, read: true},
		"activationkey.setDetails":              {fn: activationKeySetDetails},
		"activationkey.addChildChannels":        {fn: activationKeyAddChildChannels},
		"activationkey.removeChildChannels":     {fn: activationKeyRemoveChildChannels},
		"activationkey.addEntitlements":         {fn: activationKeyEntitlements(true)},
		"activationkey.removeEntitlements":      {fn: activationKeyEntitlements(false)},
		"activationkey.addPackages":             {fn: activationKeyPackages(true)},
		"activationkey.removePackages":          {fn: activationKeyPackages(false)},
		"activationkey.addServerGroups":         {fn: activationKeyServerGroups(true)},
		"activationkey.removeServerGroups":      {fn: activationKeyServerGroups(false)},
		"activationkey.listConfigChannels":      {fn: activationKeyListConfigChannels, read: true},
		"activationkey.setConfigChannels":       {fn: activationKeySetConfigChannels},
		"activationkey.addConfigChannels":       {fn: activationKeyAddConfigChannels},
		"activationkey.removeConfigChannels":    {fn: activationKeyRemoveConfigChannels},
		"activationkey.enableConfigDeployment":  {fn: activationKeyConfigDeployment(ptr(true))},
		"activationkey.disableConfigDeployment": {fn: activationKeyConfigDeployment(ptr(false))},
		"activationkey.checkConfigDeployment":   {fn: activationKeyConfigDeployment(nil), read: true},

		"systemgroup.create":                     {fn: systemGroupCreate},
		"systemgroup.getDetails":                 {fn: systemGroupGetDetails, read: true},
		"systemgroup.update":                     {fn: systemGroupUpdate},
		"systemgroup.delete":                     {fn: systemGroupDelete},
		"systemgroup.listAllGroups":              {fn: systemGroupListAllGroups, read: true},
		"systemgroup.subscribeConfigChannel":     {fn: systemGroupSubscribeConfigChannel},
		"systemgroup.listAssignedConfigChannels": {fn: systemGroupListAssignedConfigChannels, read: true},

		"schedule.listAllActions":        {fn: scheduleListActions(-1), read: true},
		"schedule.listInProgressActions": {fn: scheduleListActions(actionQueued), read: true},
		"schedule.listCompletedActions":  {fn: scheduleListActions(actionCompleted), read: true},
		"schedule.listFailedActions":     {fn: scheduleListActions(actionFailed), read: true},
		"schedule.listInProgressSystems": {fn: scheduleListSystems(actionQueued), read: true},
		"schedule.listCompletedSystems":  {fn: scheduleListSystems(actionCompleted), read: true},
		"schedule.listFailedSystems":     {fn: scheduleListSystems(actionFailed), read: true},

		"system.config.addChannels":                {fn: systemConfigAddChannels},
		"system.config.listChannels":               {fn: systemConfigListChannels, read: true},
		"system.config.scheduleApplyConfigChannel": {fn: systemConfigScheduleApplyConfigChannel},

		"system.listSystems":                      {fn: systemListSystems, read: true},
		"system.listUserSystems":                  {fn: systemListUserSystems, read: true},
		"system.listFqdns":                        {fn: systemListFqdns, read: true},
		"system.listSystemsWithEntitlement":       {fn: systemListSystemsWithEntitlement, read: true},
		"sync.hub.listPeripheralServers":          {fn: syncHubListPeripheralServers, read: true},
		"sync.hub.listPeripheralChannelsToSync":   {fn: syncHubListChannelsToSync, read: true},
		"sync.hub.addPeripheralChannelsToSync":    {fn: syncHubChangeChannelsToSync(true)},
		"sync.hub.removePeripheralChannelsToSync": {fn: syncHubChangeChannelsToSync(false)},

		"org.listOrgs":             {fn: orgListOrgs, read: true},
		"user.getDetails":          {fn: userGetDetails, read: true},
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
	v, _ := s.Get(name)
	return asString(v)
}

// asString is a (String) cast of a map value.
func asString(v any) (string, *rpc.Fault) {
	if v == nil {
		return "", nil
	}
	s, ok := v.(string)
	if !ok {
		return "", castFault(v, "java.lang.String")
	}
	return s, nil
}

// validateMap is BaseHandler.validateMap: unknown members are 2801,
// "Invalid argument(s): a, b" (api.invalidargs).
func validateMap(m rpc.Struct, valid ...string) *rpc.Fault {
	var bad []string
	for _, mb := range m {
		if !slices.Contains(valid, mb.Name) {
			bad = append(bad, mb.Name)
		}
	}
	if len(bad) > 0 {
		return handlerFault(2801, "Invalid argument(s): "+strings.Join(bad, ", "))
	}
	return nil
}

func ptr[T any](v T) *T { return &v }

// find is the first element of list that matches, or nil.
func find[T any](list []*T, match func(*T) bool) *T {
	if i := slices.IndexFunc(list, match); i >= 0 {
		return list[i]
	}
	return nil
}

func formatInt(n int64) string { return strconv.FormatInt(n, 10) }

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
	if other, ok := c.st.users[c.str("username")]; ok {
		u = other
	}
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
	v, _ := versions(c.srv.mode())
	return v, nil
}

func apiSystemVersion(c *call) (any, *rpc.Fault) {
	_, v := versions(c.srv.mode())
	return v, nil
}

func apiGetApiNamespaces(c *call) (any, *rpc.Fault) {
	return preEncoded(c.srv.surface().namespacesResp), nil
}

func apiGetApiCallList(c *call) (any, *rpc.Fault) {
	return preEncoded(c.srv.surface().callListResp), nil
}

func apiGetApiNamespaceCallList(c *call) (any, *rpc.Fault) {
	name := c.str("namespace")
	ns := c.srv.surface().byName[name]
	if ns == nil {
		return nil, unhandled("Handler " + name + " not found.")
	}
	return preEncoded(ns.callListResp), nil
}

// sessionUser is the user whose session the call came with.
func (c *call) sessionUser() (*user, bool) {
	if len(c.args) == 0 {
		return nil, false
	}
	u, ok := c.args[0].(*user)
	return u, ok
}
