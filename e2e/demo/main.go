// Command demo runs hubgw in front of a simulated hub with peripherals, in
// one process, and prints where to point spacecmd, scripts and a browser.
// `make demo` runs it (PORT= and SIM_PORT= choose the ports; unset, free
// ones are taken); Ctrl-C stops everything.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"

	"github.com/hubgw/hubgw/adapters/httpapi"
	"github.com/hubgw/hubgw/adapters/server"
	"github.com/hubgw/hubgw/e2e/uyunisim"
)

func main() {
	listen := flag.String("listen", "127.0.0.1:0", "gateway address (port 0: a free one)")
	simListen := flag.String("sim-listen", "127.0.0.1:0", "simulated hub address; peripherals take the next ports (port 0: free ones)")
	peripherals := flag.Int("peripherals", 3, "simulated peripherals")
	flag.Parse()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Stdout, *listen, *simListen, *peripherals); err != nil {
		fmt.Fprintln(os.Stderr, "demo:", err)
		os.Exit(1)
	}
}

// portTaken turns "address already in use" into what to do about it.
func portTaken(err error, what, variable, addr string) error {
	if !errors.Is(err, syscall.EADDRINUSE) {
		return fmt.Errorf("%s: %w", what, err)
	}
	_, port, _ := net.SplitHostPort(addr)
	return fmt.Errorf("%s: port %s is taken (another demo, or a hub-xmlrpc-api?): choose another with make demo %s=..., or leave %s unset for a free one", what, port, variable, variable)
}

func run(ctx context.Context, out io.Writer, listen, simListen string, peripherals int) error {
	log := slog.New(httpapi.LogHandler{Handler: slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn})})

	// The gateway's port first: the one people type, so the one to fail on.
	l, err := net.Listen("tcp", listen)
	if err != nil {
		return portTaken(err, "gateway", "PORT", listen)
	}
	defer l.Close()
	sim, err := uyunisim.Start(ctx, uyunisim.Config{Listen: simListen, Peripherals: peripherals, Logger: log})
	if err != nil {
		return portTaken(err, fmt.Sprintf("simulated hub (it and its %d peripherals take consecutive ports)", peripherals), "SIM_PORT", simListen)
	}
	defer sim.Close()

	cfg := server.Defaults()
	cfg.Listen = l.Addr().String()
	cfg.HubURL = sim.Hub().URL()
	cfg.PeripheralScheme = "http"
	// The simulated hub has sync.hub, which names peripherals by FQDN (here
	// host:port): groups and targets use FQDNs or ids, never "peripheral-1".
	var group []string
	for _, p := range sim.Peripherals()[:min(2, len(sim.Peripherals()))] {
		group = append(group, p.FQDN())
	}
	cfg.Groups = map[string][]string{"demo": group}
	srv, err := server.New(cfg, log)
	if err != nil {
		return err
	}
	// An example bundle for the command line's plan and apply, removed
	// when the demo stops.
	dir, err := os.MkdirTemp("", "hubgw-demo-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	fleet := filepath.Join(dir, "fleet.yaml")
	if err := os.WriteFile(fleet, []byte(exampleBundle), 0o644); err != nil {
		return err
	}
	printGuide(out, "http://"+l.Addr().String(), sim, group, fleet)
	return srv.Serve(ctx, l, cfg.Grace())
}

// exampleBundle is what an admin declares for every peripheral: a config
// channel with a file and an activation key that subscribes to it.
const exampleBundle = `# hubgw desired state: hubgw plan -f fleet.yaml --targets all
apiVersion: hubgw/v1
kind: ConfigChannel
metadata: {name: demo-motd}
spec:
  name: Demo message of the day
  files:
    - {path: /etc/motd, content: "Managed by the hub\n", mode: "0644"}
---
apiVersion: hubgw/v1
kind: ActivationKey
metadata: {name: demo-web}
spec:
  description: Web servers
  configChannels: [demo-motd]
`

func printGuide(out io.Writer, gw string, sim *uyunisim.Sim, group []string, fleet string) {
	addr := strings.TrimPrefix(gw, "http://")
	ps := sim.Peripherals()
	first, last := ps[0], ps[len(ps)-1]
	fmt.Fprintf(out, `hubgw demo: the gateway is in front of a simulated Uyuni hub with %d peripherals.

  landing page:                                 %[2]s/
  gateway XML-RPC (hub-xmlrpc-api compatible):  %[2]s/hub/rpc/api
  gateway as the hub (spacecmd, plain scripts): %[2]s/rpc/api
  simulated hub:                                %[3]s
  metrics: %[2]s/metrics    health: %[2]s/healthz    readiness: %[2]s/readyz
  REST (JSON):                                  %[2]s/api/v1    OpenAPI 3: %[2]s/openapi.json
  Swagger UI (Authorize with a /api/v1/login token): %[2]s/docs/
  web console (rollouts and jobs; sign in as below): %[2]s/ui/
  user admin, password admin

Targets: the hub has sync.hub, so peripherals are named by FQDN (here host:port) or id:
`, len(ps), gw, sim.Hub().URL())
	for _, p := range ps {
		fmt.Fprintf(out, "  peripheral  FQDN %-21s  id %d\n", p.FQDN(), p.ID())
	}
	fmt.Fprintf(out, `  group demo  %s
  all         every peripheral;   hub: the hub itself

Python, as hub-xmlrpc-api's scripts do:
  python3 -c 'import xmlrpc.client as x; c = x.ServerProxy("%[2]s/hub/rpc/api")
  k = c.hub.loginWithAutoconnectMode("admin", "admin")["SessionKey"]
  print(c.broadcast.system.listSystems(k, "all")["Successful"]["ServerIds"])'

REST, with curl:
  t=$(curl -s -H 'Content-Type: application/json' -d '{"username":"admin","password":"admin","mode":"autoconnect"}' %[2]s/api/v1/login | python3 -c 'import json,sys; print(json.load(sys.stdin)["token"])')
  curl -s -X POST -H "Authorization: Bearer $t" '%[2]s/api/v1/call/system/listSystems?targets=all'

spacecmd through the gateway (the target is the user part of -s):
  at the hub:               spacecmd -s %[3]s --nossl -u admin -p admin -- system_list
  at one peripheral (FQDN): spacecmd -s %[4]s@%[3]s --nossl -u admin -p admin -- softwarechannel_list
  at one peripheral (id):   spacecmd -s %[5]d@%[3]s --nossl -u admin -p admin -- system_list
  at the demo group:        spacecmd -s demo@%[3]s --nossl -u admin -p admin -- configchannel_list
  at all peripherals:       spacecmd -s all@%[3]s --nossl -u admin -p admin -- activationkey_list
  scripts, path form:       %[2]s/t/all/rpc/api    %[2]s/t/%[4]s/rpc/api

The hubgw command line (go build -o hubgw ./cmd/hubgw; the packages install it), an example bundle in %[6]s:
  hubgw login --gateway %[2]s -u admin --mode autoconnect          (password admin)
  hubgw call system.listSystems --targets all
  hubgw plan -f %[6]s --targets all
  hubgw apply -f %[6]s --targets all
  hubgw apply -f %[6]s --targets all --canary 1 --wave 50%%      (a staged rollout)
  hubgw rollout list
  hubgw jobs

Ctrl-C stops the demo.
`, strings.Join(group, ","), gw, addr, first.FQDN(), last.ID(), fleet)
}
