package uyunisim

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"maps"
	mrand "math/rand/v2"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/hubgw/hubgw/gateway/rpc"
)

// org is an organisation of one server. Each server has its admin's org
// and a second one whose objects the admin cannot see (Config.OrgIDs).
type org struct {
	id   int64
	name string
}

// maxCached bounds a server's response cache; past it the cache starts over.
const maxCached = 4096

// state is one server's Uyuni: its sessions and the objects the API creates.
// Every API call runs with mu held.
type state struct {
	mu  sync.Mutex
	srv *Server
	now func() time.Time
	ttl time.Duration

	secret      string // keys are <id>x<sha256(secret:id)>, like Uyuni's
	admin       *user
	users       map[string]*user // Config.Users, in the second org
	sessions    map[int64]*session
	nextSession int64

	// version counts writes; a cached response is good while it is unchanged.
	version uint64
	cache   map[string]cachedResponse

	born    time.Time
	systems []system

	org, otherOrg org // the admin's, and one the admin cannot see

	// channelByLabel holds every org's channels: labels and names are
	// unique across orgs (CreateChannelCommand), visibility is not.
	channels       []*channel
	channelByLabel map[string]*channel
	repos          []*repo // the admin's org only: repo labels are per org
	configs        []*configChannel
	configByLabel  map[string]*configChannel
	keys           []*activationKey
	keyByName      map[string]*activationKey
	defaultKey     *activationKey // the org's universal default (Org.getToken)
	groups         []*serverGroup
	actions        []*action
	pending        int                // actions not yet finished
	sysConfig      map[int64][]string // system id → subscribed config channels, by rank
	// hubSync, on the hub: peripheral FQDN → labels of the hub's channels
	// Hub Online Sync keeps on it (IssPeripheralChannels).
	hubSync map[string][]string
	nextID  int64 // ids of channels, repos, config channels, revisions, groups, actions
}

type user struct {
	id              int64
	login, password string
	org             int64
}

type session struct {
	id      int64
	user    *user
	expires time.Time
}

type cachedResponse struct {
	version uint64
	body    []byte
}

type system struct {
	id                             int64
	name, fqdn                     string
	lastCheckin, created, lastBoot time.Time
	outdated                       int
}

type channel struct {
	id                                int64
	org                               int64
	label, name, summary, description string
	arch                              arch
	parent                            string
	checksum                          string
	gpgURL, gpgID, gpgFP              string
	gpgCheck                          bool
	maintainerName, maintainerEmail   string
	maintainerPhone, supportPolicy    string
	access                            string   // channel.access org sharing: private, public, protected
	repos                             []string // associated repo labels
	cron                              string   // repo sync schedule, "" for none
	lastSync                          time.Time
	modified                          time.Time
}

// repo is a ContentSource.
type repo struct {
	id              int64
	label, typ, url string
	signedMetadata  bool
}

type configChannel struct {
	id                       int64
	label, name, description string
	typ                      string // "normal" or "state"
	files                    []*configFile
}

// configFile is a path of a config channel with its revisions, oldest first.
type configFile struct {
	path      string
	revisions []*configRevision
}

func (f *configFile) latest() *configRevision { return f.revisions[len(f.revisions)-1] }

type configRevision struct {
	id, revision int64
	typ          string // ConfigFileType label: file, directory, symlink, sls
	contents     []byte
	binary       bool
	owner, group string
	permissions  int64 // the octal digits read as decimal: 644
	selinux      string
	macroStart   string
	macroEnd     string
	target       string // symlinks
	created      time.Time
	modified     time.Time
}

type activationKey struct {
	key            string // "1-name"
	description    string
	base           string // "" for Uyuni's default base channel
	usageLimit     *int64 // nil: unlimited
	entitlements   []string
	childChannels  []string
	configChannels []string // by rank
	groups         []int64
	packages       []keyPackage
	deployConfigs  bool
	disabled       bool
	contactMethod  string
}

type keyPackage struct{ name, arch string }

// serverGroup is a ManagedServerGroup.
type serverGroup struct {
	id                int64
	name, description string
	configChannels    []string // by rank
}

func newState(sim *Sim, srv *Server) *state {
	secret := make([]byte, 16)
	rand.Read(secret)
	st := &state{
		srv:            srv,
		now:            sim.now,
		ttl:            sim.cfg.SessionTTL,
		secret:         hex.EncodeToString(secret),
		users:          make(map[string]*user, len(sim.cfg.Users)),
		sessions:       make(map[int64]*session),
		nextSession:    100 + mrand.Int64N(900000), // servers' keys differ, as real ones do
		cache:          make(map[string]cachedResponse),
		born:           sim.now().Truncate(time.Second),
		channelByLabel: make(map[string]*channel),
		configByLabel:  make(map[string]*configChannel),
		keyByName:      make(map[string]*activationKey),
		sysConfig:      make(map[int64][]string),
		hubSync:        make(map[string][]string),
		nextID:         100,
	}
	st.org, st.otherOrg = sim.orgsOf(srv)
	st.admin = &user{id: 1, login: sim.cfg.User, password: sim.cfg.Password, org: st.org.id}
	for i, login := range slices.Sorted(maps.Keys(sim.cfg.Users)) {
		st.users[login] = &user{id: 2 + int64(i), login: login, password: sim.cfg.Users[login], org: st.otherOrg.id}
	}
	if srv.role == RolePeripheral {
		for j := 1; j <= sim.cfg.Systems; j++ {
			name := fmt.Sprintf("%s-minion-%d", srv.name, j)
			st.systems = append(st.systems, st.newSystem(1000010000+int64(j), name, name+".example.org", j))
		}
	}
	return st
}

func (st *state) newSystem(id int64, name, fqdn string, j int) system {
	return system{
		id: id, name: name, fqdn: fqdn,
		lastCheckin: st.born.Add(-time.Duration(j) * time.Minute),
		created:     st.born.AddDate(0, 0, -30).Add(-time.Duration(j) * time.Minute),
		lastBoot:    st.born.Add(-24 * time.Hour).Add(-time.Duration(j) * time.Minute),
		outdated:    j % 7,
	}
}

// peripheralSystems are the hub's systems: one per peripheral.
func (sim *Sim) peripheralSystems() []system {
	out := make([]system, 0, len(sim.peripherals))
	for i, p := range sim.peripherals {
		out = append(out, sim.hub.st.newSystem(p.id, p.name, p.FQDN(), i+1))
	}
	return out
}

func (st *state) wrote() { st.version++ }

func (st *state) findSystem(id int64) (system, bool) {
	for _, s := range st.systems {
		if s.id == id {
			return s, true
		}
	}
	return system{}, false
}

// Sessions, as com.redhat.rhn.manager.session.SessionManager keeps them.

func (st *state) keyHash(id int64) string {
	sum := sha256.Sum256([]byte(st.secret + ":" + strconv.FormatInt(id, 10)))
	return hex.EncodeToString(sum[:])
}

func (st *state) login(u *user, lifetime time.Duration) string {
	id := st.nextSession
	st.nextSession++
	st.sessions[id] = &session{id: id, user: u, expires: st.now().Add(lifetime)}
	return strconv.FormatInt(id, 10) + "x" + st.keyHash(id)
}

// javaError is an exception Uyuni throws outside a handler's own code; how
// it reaches the client depends on where it is thrown.
type javaError struct {
	class, msg string
}

const (
	classLookup         = "com.redhat.rhn.common.hibernate.LookupException"
	classInvalidSession = "com.redhat.rhn.domain.session.InvalidSessionIdException"
)

// lookupByKey is SessionManager.lookupByKey: the id is looked up before the
// hash is checked, so a well-formed key of an unknown session reports the
// lookup, and a known id with a wrong hash reports an invalid key.
func (st *state) lookupByKey(key string) (*session, *javaError) {
	if key == "" {
		return nil, &javaError{classInvalidSession, "Session key cannot be empty null."}
	}
	parts := strings.FieldsFunc(key, func(r rune) bool { return r == 'x' }) // StringUtils.split
	if !isNumeric(parts[0]) {
		return nil, &javaError{classInvalidSession, "Session id: " + parts[0] + " is not valid. Session ids must be numeric."}
	}
	id, err := strconv.ParseInt(parts[0], 10, 64)
	s := st.sessions[id]
	if err == nil && s != nil && !st.now().Before(s.expires) {
		delete(st.sessions, id) // expired: gone, as after Uyuni's cleanup
		s = nil
	}
	if err != nil {
		// Long.valueOf would throw; a key that long is no session of ours either.
		return nil, &javaError{classLookup, "Could not find session with id: " + parts[0]}
	}
	if s == nil {
		return nil, &javaError{classLookup, "Could not find session with id: " + strconv.FormatInt(id, 10)}
	}
	if len(parts) != 2 || parts[1] != st.keyHash(id) {
		return nil, &javaError{classInvalidSession, "Session id: " + strconv.FormatInt(id, 10) + " is not valid."}
	}
	return s, nil
}

// extend is SessionManager.extendSessionLifetime: every call with a session
// sets its expiry to now + the configured lifetime (not the login duration).
func (st *state) extend(s *session) { s.expires = st.now().Add(st.ttl) }

func isNumeric(s string) bool {
	if s == "" {
		return false
	}
	for _, c := range s {
		if c < '0' || c > '9' {
			return false
		}
	}
	return true
}

// isSessionKey is BaseHandler's KEY_REGEX, ^[1-9][0-9]*x[a-f0-9]{64}$: only a
// first parameter of this shape is taken for a session key.
func isSessionKey(s string) bool {
	x := strings.IndexByte(s, 'x')
	if x < 1 || s[0] == '0' || !isNumeric(s[:x]) || len(s)-x-1 != 64 {
		return false
	}
	for _, c := range s[x+1:] {
		if (c < '0' || c > '9') && (c < 'a' || c > 'f') {
			return false
		}
	}
	return true
}

// Fault helpers. A handler's exception reaches the client through Uyuni's
// ExceptionTranslator and redstone: "redstone.xmlrpc.XmlRpcFault: <message>".

func handlerFault(code int, msg string) *rpc.Fault {
	return &rpc.Fault{Code: code, String: "redstone.xmlrpc.XmlRpcFault: " + msg}
}

// unhandled is what a handler's RuntimeException becomes.
func unhandled(msg string) *rpc.Fault {
	return handlerFault(-1, "unhandled internal exception: "+msg)
}

// rawFault is an exception thrown before a handler runs (session loading,
// parameter translation): redstone writes "<class>: <message>" with code -1.
func rawFault(e *javaError) *rpc.Fault {
	return &rpc.Fault{Code: -1, String: e.class + ": " + e.msg}
}
