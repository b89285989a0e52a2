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
// Simulated methods: auth.login (both), auth.logout; api.getVersion,
// systemVersion, productName, getApiNamespaces, getApiNamespaceCallList,
// getApiCallList (from gateway/catalog plus the methods above that newer Uyuni
// has; encoded once; "exceptions" is always empty since the catalog does not
// record them); channel.listAllChannels; channel.software.create (4),
// listArches, getDetails (label, id); configchannel.create (3),
// createOrUpdatePath, channelExists, listGlobals, deployAllSystems (4);
// activationkey.create (2), listActivationKeys, getDetails, addChildChannels,
// addConfigChannels; system.listSystems, listUserSystems (2), listFqdns,
// listSystemsWithEntitlement; sync.hub.listPeripheralServers; org.listOrgs;
// user.listUsers, listAssignableRoles. There are no permission checks: the one
// user (Config.User) is an administrator.
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
//	DELETE /sim/faults            clear them
//	POST   /sim/expire-sessions   end every session
//	GET    /sim/calls             the recorded calls (CallRecord as JSON); DELETE forgets them
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
