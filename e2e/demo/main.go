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

spacecmd at the hub through the gateway:
  spacecmd -s %s --nossl -u admin -p admin -- system_list

Ctrl-C stops the demo.
`, peripherals, gw, gw, sim.Hub().URL(), gw, gw, gw, gw, gw, gw, gw, gw, gw, l.Addr().String())
	for _, p := range sim.Peripherals() {
		fmt.Printf("  peripheral %-14s %s\n", p.Name(), p.URL())
	}
	return srv.Serve(ctx, l, 10*time.Second)
}
