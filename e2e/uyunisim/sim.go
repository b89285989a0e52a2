package uyunisim

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"math/big"
	"net"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/hubgw/hubgw/gateway/catalog"
)

// Discovery modes: which peripheral-discovery methods the hub serves,
// newest Uyuni first.
const (
	// DiscoverySyncHub serves sync.hub.listPeripheralServers and
	// system.listSystemsWithEntitlement (Uyuni with hub sync, 2025 on).
	DiscoverySyncHub = "sync-hub"
	// DiscoveryEntitlement serves system.listSystemsWithEntitlement but has
	// no sync.hub namespace.
	DiscoveryEntitlement = "entitlement"
	// DiscoveryLegacy is the 2021 API: neither method; peripherals are the
	// hub's systems (system.listSystems).
	DiscoveryLegacy = "legacy"
)

// Defaults for zero Config fields.
const (
	DefaultListen     = "127.0.0.1:0"
	DefaultUser       = "admin"
	DefaultPassword   = "admin"
	DefaultSystems    = 10
	DefaultSessionTTL = 3600 * time.Second
	DefaultMaxCalls   = 10000
)

// Config describes a simulated hub and its peripherals.
type Config struct {
	// Listen is the hub's address. Port 0 gives every server a random port;
	// otherwise peripheral i listens on the hub's port + i.
	Listen      string
	Peripherals int
	// User and Password are the admin account every server knows.
	User, Password string
	// Users are more accounts on every server (login → password), each in
	// the server's second org, the one the admin cannot see, where no
	// system is registered: Uyuni answers per user, so system.listSystems
	// lists none for them. A gateway reaching a server as one of these
	// sees other answers than as the admin.
	Users map[string]string
	// Systems is how many systems each peripheral has (system.listSystems),
	// so responses can be made large. 0 means DefaultSystems, negative none.
	// The hub's systems are its peripherals.
	Systems int
	// SessionTTL is how long a session lives after login and after each call
	// that uses it (Uyuni's web.session_database_lifetime). 0 means DefaultSessionTTL.
	SessionTTL time.Duration
	// Discovery is DiscoverySyncHub (the default), DiscoveryEntitlement or
	// DiscoveryLegacy. Peripherals run the same Uyuni version as the hub.
	Discovery string
	// Faults are injected into every server from the start;
	// ServerFaults, by server name ("hub", "peripheral-3"), replace them for one server.
	Faults       Faults
	ServerFaults map[string]Faults
	// AdminOrgs sets the org id of the admin (Config.User) per server name.
	// By default the hub's admin is in org 1 and peripheral i's in org i,
	// so an activation key "web" is "1-web" on one and "3-web" on another,
	// as on a real fleet. Every server also has a second org, id +1, whose
	// objects the admin cannot see (POST /sim/objects seeds them).
	AdminOrgs map[string]int64
	// ActionDelay is how long after its earliest date a scheduled action
	// (config deploy, state apply) stays queued before it completes or
	// fails; Faults.ActionFailure decides which. 0 means at the next call.
	ActionDelay time.Duration
	// ServerVersions gives some servers another API level than the hub's
	// (Discovery): by server name, one of DiscoverySyncHub (API 27),
	// DiscoveryEntitlement (26), DiscoveryLegacy (25). An older server
	// lacks newer methods ("Could not find method") and setDetails keys (2801).
	ServerVersions map[string]string
	// MaxCalls bounds the call records kept per server (oldest dropped).
	// 0 means DefaultMaxCalls.
	MaxCalls int
	Logger   *slog.Logger // nil discards

	now func() time.Time // tests replace the clock
}

// Sim is a running hub with its peripherals.
type Sim struct {
	cfg      Config
	log      *slog.Logger
	now      func() time.Time
	surfaces map[string]*surface // by API level (discovery mode)
	handlers map[string]handler
	rootCA   string // PEM, what sync.hub.listPeripheralServers reports

	hub         *Server
	peripherals []*Server
	byName      map[string]*Server

	closing chan struct{} // closed by Close: releases hung and sleeping requests
	life    sync.RWMutex  // guards closed against wg.Add
	closed  bool
	wg      sync.WaitGroup // serve loops and request handlers
}

// Start listens on every server's port and serves until Close. ctx bounds
// the start only.
func Start(ctx context.Context, cfg Config) (*Sim, error) {
	cfg, err := cfg.withDefaults()
	if err != nil {
		return nil, err
	}
	host, port, err := splitListen(cfg.Listen, cfg.Peripherals)
	if err != nil {
		return nil, err
	}
	cat, err := catalog.Load()
	if err != nil {
		return nil, err
	}
	ca, err := selfSignedCA()
	if err != nil {
		return nil, err
	}
	sim := &Sim{
		cfg:      cfg,
		log:      cfg.Logger,
		now:      cfg.now,
		handlers: newHandlers(),
		rootCA:   ca,
		byName:   make(map[string]*Server, cfg.Peripherals+1),
		closing:  make(chan struct{}),
	}
	sim.surfaces = make(map[string]*surface)
	for _, mode := range append([]string{cfg.Discovery}, slices.Collect(maps.Values(cfg.ServerVersions))...) {
		if sim.surfaces[mode] == nil {
			if sim.surfaces[mode], err = newSurface(cat, mode); err != nil {
				return nil, err
			}
		}
	}

	// Bind every port first, so a busy port fails the start before anything serves.
	listeners := make([]net.Listener, 0, cfg.Peripherals+1)
	closeAll := func() {
		for _, l := range listeners {
			l.Close()
		}
	}
	var lc net.ListenConfig
	for i := 0; i <= cfg.Peripherals; i++ {
		p := port
		if port != 0 {
			p = port + i
		}
		l, err := lc.Listen(ctx, "tcp", net.JoinHostPort(host, strconv.Itoa(p)))
		if err != nil {
			closeAll()
			return nil, fmt.Errorf("uyunisim: listen: %w", err)
		}
		listeners = append(listeners, l)
	}

	for name := range cfg.ServerVersions {
		if name != "hub" && !validPeripheralName(name, cfg.Peripherals) {
			closeAll()
			return nil, fmt.Errorf("uyunisim: ServerVersions names no server %q", name)
		}
	}
	sim.hub = newServer(sim, "hub", RoleHub, 0, listeners[0].Addr().String())
	sim.byName[sim.hub.name] = sim.hub
	for i := 1; i <= cfg.Peripherals; i++ {
		p := newServer(sim, fmt.Sprintf("peripheral-%d", i), RolePeripheral, peripheralID(i), listeners[i].Addr().String())
		sim.peripherals = append(sim.peripherals, p)
		sim.byName[p.name] = p
	}
	sim.hub.st.systems = sim.peripheralSystems()
	for i, s := range sim.Servers() {
		f := cfg.Faults
		if sf, ok := cfg.ServerFaults[s.name]; ok {
			f = sf
		}
		s.faults.Store(f.clone())
		if f.Down {
			listeners[i].Close() // the port is known; it stays free until the fault clears
			continue
		}
		s.serve(listeners[i])
	}
	sim.log.Info("uyunisim started", "hub", sim.hub.URL(), "peripherals", cfg.Peripherals, "discovery", cfg.Discovery)
	return sim, nil
}

func (c Config) withDefaults() (Config, error) {
	if c.Listen == "" {
		c.Listen = DefaultListen
	}
	if c.Peripherals < 0 {
		return c, errors.New("uyunisim: negative number of peripherals")
	}
	if c.User == "" {
		c.User = DefaultUser
	}
	if c.Password == "" {
		c.Password = DefaultPassword
	}
	switch {
	case c.Systems == 0:
		c.Systems = DefaultSystems
	case c.Systems < 0:
		c.Systems = 0
	}
	if c.SessionTTL == 0 {
		c.SessionTTL = DefaultSessionTTL
	}
	if c.SessionTTL < 0 {
		return c, errors.New("uyunisim: negative session TTL")
	}
	if c.Discovery == "" {
		c.Discovery = DiscoverySyncHub
	}
	for _, mode := range append([]string{c.Discovery}, slices.Collect(maps.Values(c.ServerVersions))...) {
		switch mode {
		case DiscoverySyncHub, DiscoveryEntitlement, DiscoveryLegacy:
		default:
			return c, fmt.Errorf("uyunisim: unknown discovery mode %q (want %s, %s or %s)",
				mode, DiscoverySyncHub, DiscoveryEntitlement, DiscoveryLegacy)
		}
	}
	for name, id := range c.AdminOrgs {
		if id < 1 {
			return c, fmt.Errorf("uyunisim: AdminOrgs[%q] = %d: org ids start at 1", name, id)
		}
	}
	if c.ActionDelay < 0 {
		return c, errors.New("uyunisim: negative action delay")
	}
	if c.MaxCalls <= 0 {
		c.MaxCalls = DefaultMaxCalls
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
	if c.now == nil {
		c.now = time.Now
	}
	return c, nil
}

func splitListen(listen string, peripherals int) (string, int, error) {
	host, ps, err := net.SplitHostPort(listen)
	if err != nil {
		return "", 0, fmt.Errorf("uyunisim: listen address: %w", err)
	}
	port, err := strconv.Atoi(ps)
	if err != nil || port < 0 || port > 65535 || (port > 0 && port+peripherals > 65535) {
		return "", 0, fmt.Errorf("uyunisim: listen port %q cannot hold the hub and %d peripherals", ps, peripherals)
	}
	return host, port, nil
}

func validPeripheralName(name string, n int) bool {
	i, err := strconv.Atoi(strings.TrimPrefix(name, "peripheral-"))
	return err == nil && strings.HasPrefix(name, "peripheral-") && i >= 1 && i <= n
}

// orgsOf is the admin's org and the hidden org of srv (Config.AdminOrgs).
func (sim *Sim) orgsOf(srv *Server) (admin, other org) {
	id := int64(1)
	if srv.role == RolePeripheral {
		id = srv.id - peripheralID(0)
	}
	if o, ok := sim.cfg.AdminOrgs[srv.name]; ok {
		id = o
	}
	return org{id, orgNameOf(id)}, org{id + 1, orgNameOf(id + 1)}
}

func orgNameOf(id int64) string {
	if id == 1 {
		return "Default Organization"
	}
	return fmt.Sprintf("Organization %d", id)
}

// peripheralID is peripheral i's system id on the hub; Uyuni numbers systems
// from 1000010000.
func peripheralID(i int) int64 { return 1000010000 + int64(i) }

// Hub returns the hub.
func (sim *Sim) Hub() *Server { return sim.hub }

// Peripherals returns the peripherals, peripheral-1 first.
func (sim *Sim) Peripherals() []*Server { return sim.peripherals }

// Servers returns the hub then the peripherals.
func (sim *Sim) Servers() []*Server {
	return append([]*Server{sim.hub}, sim.peripherals...)
}

// Server finds a server by name ("hub", "peripheral-2").
func (sim *Sim) Server(name string) (*Server, bool) {
	s, ok := sim.byName[name]
	return s, ok
}

// Close stops every server, releases hung requests and waits for every
// goroutine the simulator started. It is safe to call more than once.
func (sim *Sim) Close() error {
	sim.life.Lock()
	if sim.closed {
		sim.life.Unlock()
		return nil
	}
	sim.closed = true
	sim.life.Unlock()
	close(sim.closing)

	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	var errs []error
	for _, s := range sim.Servers() {
		if err := s.stop(ctx); err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", s.name, err))
		}
	}
	sim.wg.Wait()
	sim.log.Info("uyunisim stopped")
	return errors.Join(errs...)
}

// track counts a goroutine the simulator must wait for, unless it is closing.
func (sim *Sim) track() bool {
	sim.life.RLock()
	defer sim.life.RUnlock()
	if sim.closed {
		return false
	}
	sim.wg.Add(1)
	return true
}

// selfSignedCA makes the CA certificate peripherals report as root_ca. The
// simulator speaks plain HTTP; the certificate only has to parse.
func selfSignedCA() (string, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return "", fmt.Errorf("uyunisim: CA key: %w", err)
	}
	now := time.Now()
	tmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(1),
		Subject:               pkix.Name{CommonName: "uyunisim root CA", Organization: []string{"uyunisim"}},
		NotBefore:             now.Add(-time.Hour),
		NotAfter:              now.AddDate(10, 0, 0),
		IsCA:                  true,
		BasicConstraintsValid: true,
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageCRLSign,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return "", fmt.Errorf("uyunisim: CA certificate: %w", err)
	}
	return string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})), nil
}
