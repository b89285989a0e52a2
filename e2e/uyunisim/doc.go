// Package uyunisim simulates an Uyuni hub and its peripheral Uyuni servers in
// one process, on loopback, so hubgw can be tested end to end without a real
// Uyuni. Every server is a stateful Uyuni speaking XML-RPC at POST /rpc/api,
// faithful to the wire (../shared/uyuni-wire-facts.md) and to Uyuni's Java
// sources where those say more.
//
//	sim, err := uyunisim.Start(ctx, uyunisim.Config{Peripherals: 3})
//	defer sim.Close()
//	hubURL := sim.Hub().URL() // http://127.0.0.1:<port>/rpc/api
//
// # Topology
//
// The hub is named "hub"; peripherals "peripheral-1".."peripheral-N", with
// system ids 1000010000+i on the hub and FQDN "127.0.0.1:<port>" (plain
// HTTP: a gateway must be told to use http:// for them). Config.Listen with
// port 0 gives every server a random port; with port P the hub listens on P
// and peripheral i on P+i. The hub's systems are its peripherals; each
// peripheral has Config.Systems systems. Discovery (Config.Discovery):
//
//	sync-hub     sync.hub.listPeripheralServers → [{fqdn, id, root_ca}] (id = system id;
//	             root_ca a real, parseable PEM) and system.listSystemsWithEntitlement
//	entitlement  system.listSystemsWithEntitlement(key, "peripheral_server") → [{id, name, ...}]
//	             then system.listFqdns(key, id) → ["127.0.0.1:<port>"]; no sync.hub namespace
//	legacy       neither; system.listSystems(key) lists the peripherals
//
// Peripherals run the same version as the hub. api.getVersion/systemVersion
// answer 27/2025.10, 26/2024.08 and 25/2021.06 in these modes.
//
// # What is faithful
//
// Method resolution is BaseHandler.invoke's: a first parameter matching
// ^[1-9][0-9]*x[a-f0-9]{64}$ is loaded as a session (except for the auth and
// search handlers); overloads are picked by parameter count, then by Java
// assignability of redstone's classes (Integer, String, Boolean, Double,
// Date, XmlRpcStruct, XmlRpcArray, [B); failing that the first overload is
// called after Uyuni's Translator conversions (int→string, int→list, "1"/"y"/
// "true"→boolean, ...), and an impossible conversion is Uyuni's
// TranslationException. So, all with code -1:
//
//	unknown or expired session   com.redhat.rhn.common.hibernate.LookupException: Could not find session with id: N
//	known id, wrong hash         com.redhat.rhn.domain.session.InvalidSessionIdException: Session id: N is not valid.
//	key of another shape         com.redhat.rhn.common.translation.TranslationException: Could not find translator
//	                             for class java.lang.String to interface com.redhat.rhn.domain.user.User
//	wrong count                  redstone.xmlrpc.XmlRpcFault: Could not find method: <m> in class: <handler> with params:
//	                             [com.redhat.rhn.domain.user.legacy.UserImpl, java.lang.Integer]
//	unknown namespace            The specified handler cannot be found.
//	catalog method not simulated redstone.xmlrpc.XmlRpcFault: uyunisim: <ns.m> is in Uyuni's API but not simulated
//
// Translator quirks come along: an integer where the session key belongs is
// looked up as a user id (long2User), so 1 acts as the administrator and any
// other number fails with "unhandled internal exception: null".
//
// Strings (and struct member names) are trimmed, as redstone trims all
// character data: spacecmd's "key\n" works. Session keys are
// <id>x<sha256(secret:id)>; a session lives Config.SessionTTL after login
// (or the duration given to auth.login) and every call resets that to
// SessionTTL, as SessionManager.extendSessionLifetime does. auth.logout looks
// the key up inside the handler, so its faults read "redstone.xmlrpc.XmlRpcFault:
// unhandled internal exception: Could not find session with id: N". Handler
// faults are "redstone.xmlrpc.XmlRpcFault: <message>"; a handler's
// RuntimeException is "... unhandled internal exception: <message>" with code -1.
// Values are encoded by adapters/xmlrpc: <i4>, booleans 1/0, server-local
// dates yyyyMMddTHH:mm:ss, no <nil/>.
//
// channel.software.create follows CreateChannelCommand: labels match
// ^[a-z\d][a-z\d\-._]*$ with at least 6 characters, names
// ^[a-zA-Z][\w\s\-.'()/]*$ with 6 to 256; a name in use is checked before a
// label in use, so creating the same channel twice is 1200 (not 1206, which
// only channel.software.clone raises); label faults 1201; an unknown arch or
// parent is -1 "unhandled internal exception: Invalid architecture label" /
// "Invalid Parent Channel lbl"; a parent that is itself a child 1202; bad
// checksum 1210; bad GPG key id/URL 1208/1207. Fault codes follow Uyuni's
// exception table; message wording that comes from Uyuni's localized
// resources is approximated.
//
// # Hub operations, and the Java classes they follow
//
// Read in paususe/uyuni (2020) unless marked "current" (uyuni-project/uyuni):
//
//	activation keys     ActivationKeyHandler, XmlRpcActivationKeysHelper.lookupKey (missing key: -212
//	                    "Activation Key [k] Not Found!"), ActivationKeyManager, ActivationKeyFactory
//	                    (createNewKey, validateKeyName: ',' and '"' refused, key in use 1091),
//	                    ActivationKey.sanitize and Scrubber (spaces and <>(){} removed from key and
//	                    description, "<org>-" prefix), DEFAULT_DESCRIPTION "None", Token.setBaseChannel
//	                    (a new base clears the children), TokenSerializer (usage_limit 0 when unlimited),
//	                    InvalidChannelException (-211 for a missing or wrong base or child),
//	                    InvalidServerGroupException (2200); create's bad add-on entitlement is 1091,
//	                    addEntitlements' an unhandled ValidatorException (-1)
//	config channels     ConfigChannelHandler, XmlRpcConfigChannelHelper.lookupGlobal (-210 "No such
//	                    channel: <label>"), ConfigChannelCreationHelper (label ^[a-zA-Z0-9\-_]+$, no
//	                    leading '-', description required, every error 1021 "…\nERRORS:\n…";
//	                    createInitSlsFile: state channels start with an empty /init.sls),
//	                    ConfigFileBuilder (every createOrUpdatePath is a new revision),
//	                    ConfigRevisionSerializer ("channel" is the name, permissions_mode "%03d",
//	                    binary contents base64), NoSuchConfigFilePathException (-1029, one missing path
//	                    faults lookupFileInfo and deleteFiles), InvalidOperationException (1233: state
//	                    channel directories and symlinks), InvalidParameterException (1213: /init.sls
//	                    through createOrUpdatePath, deployAllSystems of a state channel);
//	                    deployAllSystems(label, unknownPath) is an unhandled NullPointerException
//	                    ("null"), getDetails(id) an unhandled LookupException
//	software channels   CreateChannelCommand (below), ChannelSoftwareHandler (setDetails: label form looks
//	                    up first, id form checks keys, 2801; values are strings, gpg_check parsed;
//	                    vendor_channel only on the newest API; delete of a parent 1234), BaseRepoCommand
//	                    and InvalidRepoLabelException/InvalidRepoUrlException (codes 2 and 1),
//	                    NoSuchContentSourceException (1213), ChannelAccessHandler (1064),
//	                    ChannelFactory.lookupByLabelAndUser (only the admin's org is visible),
//	                    isExisting (current)
//	groups, users       ServerGroupHandler (getDetails 2201), ServerGroupManager.lookup (update, delete:
//	                    unhandled LookupException), ServerGroupFactory.create (blank description "none",
//	                    duplicate unhandled), ManagedServerGroupSerializer; subscribeConfigChannel and
//	                    listAssignedConfigChannels (current); UserHandler.getDetails (org_id)
//	actions             ServerConfigHandler (addChannels re-ranks, scheduleApplyConfigChannel returns the
//	                    id of "Apply states [custom]"), ConfigurationManager.deployConfiguration
//	                    ("Deploy config files to system" for the subscribed systems, 1 and no id),
//	                    ScheduleHandler, ScheduleActionSerializer, ScheduleSystemSerializer
//	maps of options     BaseHandler.validateMap: 2801 "Invalid argument(s): a, b"
//
// Behaviour the sources leave open is marked in the code; [infer] in
// ../shared/uyuni-hub-operations.md. createOrUpdatePath without owner, group
// or permissions keeps root/root/644 (755 for directories) here.
//
// Simulated methods: auth.login (both), auth.logout; api.getVersion,
// systemVersion, productName, getApiNamespaces, getApiNamespaceCallList,
// getApiCallList (from gateway/catalog plus the methods above that newer Uyuni
// has; encoded once; "exceptions" is always empty since the catalog does not
// record them); channel.listAllChannels; channel.software.create, listArches,
// getDetails, isExisting, setDetails, setContactDetails, listChildren, delete,
// createRepo, getRepoDetails, listChannelRepos, listUserRepos, associateRepo,
// disassociateRepo, updateRepoUrl, removeRepo, syncRepo (now, cron),
// getRepoSyncCronExpression; channel.access.getOrgSharing, setOrgSharing;
// configchannel.create (all), getDetails, update, createOrUpdatePath,
// createOrUpdateSymlink, updateInitSls, channelExists, listGlobals,
// listFiles, lookupFileInfo, getFileRevisions, getFileRevision,
// getEncodedFileRevision, deleteFiles, listSubscribedSystems,
// deployAllSystems; activationkey.create, delete, listActivationKeys,
// getDetails, setDetails, add/removeChildChannels, add/removeEntitlements,
// add/removePackages, add/removeServerGroups, listConfigChannels,
// set/add/removeConfigChannels, enable/disable/checkConfigDeployment;
// systemgroup.create, getDetails, update, delete, listAllGroups,
// subscribeConfigChannel, listAssignedConfigChannels; system.config.addChannels,
// listChannels, scheduleApplyConfigChannel; schedule.listAllActions,
// list{InProgress,Completed,Failed}Actions, list{InProgress,Completed,Failed}Systems;
// system.listSystems, listUserSystems (2), listFqdns, listSystemsWithEntitlement;
// sync.hub.listPeripheralServers, listPeripheralChannelsToSync,
// add/removePeripheralChannelsToSync (HubHandler: the labels only, nothing
// is copied to the peripheral); org.listOrgs; user.getDetails, listUsers,
// listAssignableRoles. There are no permission checks: the one user
// (Config.User) is an administrator.
//
// # Orgs, actions, API levels
//
// The hub's admin is in org 1, peripheral i's in org i (Config.AdminOrgs
// changes that), so activation keys are "1-web" on one server and "3-web" on
// another. Each server has a second org, id +1, whose channels the admin
// cannot see: getDetails says -210 and isExisting false, but their names and
// labels are taken (create: 1200, 1201). POST /sim/objects seeds them.
//
// Scheduled actions (deployAllSystems, scheduleApplyConfigChannel) stay
// queued until Config.ActionDelay after their earliest date, then complete,
// or fail on Faults.ActionFailure of the systems (a fraction, decided by a
// hash of action and system id). They settle at the start of each call, so
// the cached answers of the schedule reads stay right.
//
// Config.ServerVersions gives a server another API level than the hub's: an
// older one lacks the newer methods ("Could not find method") and refuses
// newer setDetails keys (2801).
//
// # Faults and the control endpoint
//
// Faults (latency and jitter, down, hang, HTTP 500, garbage, truncated body,
// a fault per method) are set with Config.Faults/ServerFaults at start,
// Server.Inject at run time, or over HTTP for tests in another process. Every
// server answers, on its own port:
//
//	GET    /sim                   {"name","role","url","fqdn","id","faults"}
//	GET    /sim/faults            the faults in force
//	POST   /sim/faults            replace them: {"latency_ms":20,"jitter_ms":5,"down":false,"hang":false,
//	                              "http500":false,"garbage":false,"truncated":false,
//	                              "fail_method":{"system.listSystems":{"code":-1,"string":"..."}}}
//	                              also "fail_after":{"m":{"after":2,"code":-1,"string":"..."}} (m runs twice,
//	                              then faults), "drop_answer":["m"] (m runs, the connection closes unanswered),
//	                              "down_for_ms":500 with "down" (back by itself), "action_failure":0.5
//	DELETE /sim/faults            clear them
//	POST   /sim/expire-sessions   end every session
//	GET    /sim/calls             the recorded calls (CallRecord as JSON); DELETE forgets them
//	GET    /sim/objects           every channel, repo, config channel (files: revision count, sha256), key,
//	                              group and action (Objects)
//	POST   /sim/objects           change one object behind the API's back, or seed the hidden org (ObjectChange):
//	                              {"kind":"channel","label":"x","name":"X","hidden":true}
//
// A server that is down cannot answer on its own port, so the hub also
// serves all of the above for any server under /sim/servers/<name>/...
// (e.g. DELETE http://<hub>/sim/servers/peripheral-2/faults brings it back),
// and GET /sim/servers lists every server. Faults never affect /sim.
//
// # Cost
//
// One http.Server per port, whose accept loop is the server's only idle
// goroutine: 1000 peripherals start in about half a second. Answers of read methods are
// encoded once and served from a per-server cache until the server's state
// changes. Passwords and session keys are never logged; call records redact
// passwords but keep session keys.
package uyunisim
