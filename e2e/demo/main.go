// Command demo runs hubgw in front of a simulated hub with peripherals, in
// one process, and prints where to point spacecmd, scripts and a browser.
// `make demo` runs it; Ctrl-C stops everything.
package main

import (
	"context"
	"flag"
	"fmt"
	"log/slog"
	"net"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/hubgw/hubgw/adapters/httpapi"
	"github.com/hubgw/hubgw/adapters/server"
	"github.com/hubgw/hubgw/e2e/uyunisim"
)

func main() {
	listen := flag.String("listen", "127.0.0.1:2830", "gateway address")
	simListen := flag.String("sim-listen", "127.0.0.1:9000", "simulated hub address; peripherals take the next ports")
	peripherals := flag.Int("peripherals", 3, "simulated peripherals")
	flag.Parse()
	if err := run(*listen, *simListen, *peripherals); err != nil {
		fmt.Fprintln(os.Stderr, "demo:", err)
		os.Exit(1)
	}
}

func run(listen, simListen string, peripherals int) error {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	log := slog.New(httpapi.LogHandler{Handler: slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn})})

	sim, err := uyunisim.Start(ctx, uyunisim.Config{Listen: simListen, Peripherals: peripherals, Logger: log})
	if err != nil {
		return fmt.Errorf("starting the simulated hub: %w", err)
	}
	defer sim.Close()

	cfg := server.Defaults()
	cfg.Listen = listen
	cfg.HubURL = sim.Hub().URL()
	cfg.PeripheralScheme = "http"
	// A group of the first two peripherals, to show group targeting.
	var group []string
	for _, p := range sim.Peripherals()[:min(2, len(sim.Peripherals()))] {
		group = append(group, p.FQDN())
	}
	cfg.Groups = map[string][]string{"demo": group}
	srv, err := server.New(cfg, log)
	if err != nil {
		return err
	}
	l, err := net.Listen("tcp", listen)
	if err != nil {
		return fmt.Errorf("gateway: %w", err)
	}
	gw := "http://" + l.Addr().String()
	fmt.Printf(`hubgw demo: the gateway is in front of a simulated Uyuni hub with %d peripherals.

  gateway XML-RPC (hub-xmlrpc-api compatible):  %s/hub/rpc/api
  gateway as the hub (spacecmd, plain scripts): %s/rpc/api
  simulated hub:                                %s
  metrics: %s/metrics    health: %s/healthz    readiness: %s/readyz
  REST (JSON):                                  %s/api/v1    OpenAPI 3: %s/openapi.json
  Swagger UI (Authorize with a /api/v1/login token): %s/docs/
  user admin, password admin

Python, as hub-xmlrpc-api's scripts do:
  python3 -c 'import xmlrpc.client as x; c = x.ServerProxy("%s/hub/rpc/api")
  k = c.hub.loginWithAutoconnectMode("admin", "admin")["SessionKey"]
  print(c.broadcast.system.listSystems(k, "all")["Successful"]["ServerIds"])'

REST, with curl:
  t=$(curl -s -H 'Content-Type: application/json' -d '{"username":"admin","password":"admin","mode":"autoconnect"}' %s/api/v1/login | python3 -c 'import json,sys; print(json.load(sys.stdin)["token"])')
  curl -s -X POST -H "Authorization: Bearer $t" '%s/api/v1/call/system/listSystems?targets=all'

spacecmd through the gateway (the target is the user part of -s; ids, FQDNs, groups, all):
  at the hub:          spacecmd -s %[14]s --nossl -u admin -p admin -- system_list
  at one peripheral:   spacecmd -s %[15]d@%[14]s --nossl -u admin -p admin -- softwarechannel_list
  at the demo group:   spacecmd -s demo@%[14]s --nossl -u admin -p admin -- configchannel_list
  at all peripherals:  spacecmd -s all@%[14]s --nossl -u admin -p admin -- activationkey_list
  scripts, path form:  %[2]s/t/all/rpc/api

Ctrl-C stops the demo.
`, peripherals, gw, gw, sim.Hub().URL(), gw, gw, gw, gw, gw, gw, gw, gw, gw, l.Addr().String(), sim.Peripherals()[0].ID())
	for _, p := range sim.Peripherals() {
		fmt.Printf("  peripheral id %d  FQDN %s  (%s)\n", p.ID(), p.FQDN(), p.Name())
	}
	return srv.Serve(ctx, l, 10*time.Second)
}
