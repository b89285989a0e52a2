// Command uyunisim serves a simulated Uyuni hub and its peripheral servers
// (package e2e/uyunisim) until SIGINT or SIGTERM:
//
//	uyunisim --listen 127.0.0.1:9000 --peripherals 3 [--user admin --password admin
//	         --systems 100 --latency 20ms --discovery sync-hub --demo
//	         --action-delay 5s --server-version peripheral-2=legacy --admin-org peripheral-1=7]
//
// The hub listens on 9000 and peripheral i on 9000+i. Once every server
// accepts connections, one JSON line per server goes to stdout:
//
//	{"name":"hub","role":"hub","url":"http://127.0.0.1:9000/rpc/api","fqdn":"127.0.0.1:9000"}
//	{"name":"peripheral-1","role":"peripheral","url":"http://127.0.0.1:9001/rpc/api","fqdn":"127.0.0.1:9001","id":1000010001}
//
// Logs go to stderr.
package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/spf13/cobra"

	"github.com/hubgw/hubgw/e2e/uyunisim"
)

func main() {
	if err := newCommand().Execute(); err != nil {
		os.Exit(1)
	}
}

type options struct {
	listen, user, password, discovery, logLevel string
	peripherals, systems                        int
	latency, jitter, sessionTTL, actionDelay    time.Duration
	demo                                        bool
	serverVersions                              map[string]string
	adminOrgs                                   map[string]int64
}

func newCommand() *cobra.Command {
	var o options
	cmd := &cobra.Command{
		Use:   "uyunisim",
		Short: "Serve a simulated Uyuni hub and its peripheral servers",
		Long: "uyunisim serves a simulated Uyuni hub and N peripheral Uyuni servers on loopback, " +
			"prints one JSON line per server once they accept connections, and runs until SIGINT or SIGTERM.",
		Args:          cobra.NoArgs,
		SilenceUsage:  true,
		SilenceErrors: false,
		RunE: func(cmd *cobra.Command, _ []string) error {
			ctx, stop := signal.NotifyContext(cmd.Context(), os.Interrupt, syscall.SIGTERM)
			defer stop()
			return run(ctx, o, cmd.OutOrStdout(), cmd.ErrOrStderr())
		},
	}
	f := cmd.Flags()
	f.StringVar(&o.listen, "listen", "127.0.0.1:9000", "hub address; peripheral i listens on its port + i (port 0: random ports)")
	f.IntVar(&o.peripherals, "peripherals", 3, "number of peripheral servers")
	f.StringVar(&o.user, "user", uyunisim.DefaultUser, "login every server accepts")
	f.StringVar(&o.password, "password", uyunisim.DefaultPassword, "password of --user")
	f.IntVar(&o.systems, "systems", uyunisim.DefaultSystems, "systems per peripheral (system.listSystems)")
	f.DurationVar(&o.latency, "latency", 0, "latency added to every XML-RPC answer")
	f.DurationVar(&o.jitter, "jitter", 0, "up to this much random latency more")
	f.DurationVar(&o.sessionTTL, "session-ttl", uyunisim.DefaultSessionTTL, "session lifetime after login and after each call")
	f.StringVar(&o.discovery, "discovery", uyunisim.DiscoverySyncHub,
		"peripheral discovery the hub offers: sync-hub, entitlement or legacy")
	f.StringVar(&o.logLevel, "log-level", "info", "debug, info, warn or error (logs go to stderr)")
	f.BoolVar(&o.demo, "demo", false, "print a note on how to try the simulator")
	f.DurationVar(&o.actionDelay, "action-delay", 5*time.Second,
		"how long a scheduled action stays queued after its earliest date before it completes or fails")
	f.StringToStringVar(&o.serverVersions, "server-version", nil,
		"API level of some servers, e.g. peripheral-2=legacy (sync-hub, entitlement or legacy; default: --discovery)")
	f.StringToInt64Var(&o.adminOrgs, "admin-org", nil,
		"org id of the admin on some servers, e.g. peripheral-1=7 (default: hub 1, peripheral i in org i)")
	return cmd
}

// serverLine is the JSON line printed for each server.
type serverLine struct {
	Name string `json:"name"`
	Role string `json:"role"`
	URL  string `json:"url"`
	FQDN string `json:"fqdn"`
	ID   int64  `json:"id,omitempty"`
}

func run(ctx context.Context, o options, stdout, stderr io.Writer) error {
	var level slog.Level
	if err := level.UnmarshalText([]byte(o.logLevel)); err != nil {
		return fmt.Errorf("--log-level: %w", err)
	}
	systems := o.systems
	if systems == 0 {
		systems = -1 // the flag says what it means: 0 is none
	}
	sim, err := uyunisim.Start(ctx, uyunisim.Config{
		Listen:      o.listen,
		Peripherals: o.peripherals,
		User:        o.user,
		Password:    o.password,
		Systems:     systems,
		SessionTTL:  o.sessionTTL,
		Discovery:   o.discovery,
		ActionDelay: o.actionDelay,
		AdminOrgs:   o.adminOrgs,

		ServerVersions: o.serverVersions,
		Faults:         uyunisim.Faults{Latency: o.latency, Jitter: o.jitter},
		Logger:         slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: level})),
	})
	if err != nil {
		return err
	}
	enc := json.NewEncoder(stdout)
	for _, s := range sim.Servers() {
		if err := enc.Encode(serverLine{Name: s.Name(), Role: s.Role(), URL: s.URL(), FQDN: s.FQDN(), ID: s.ID()}); err != nil {
			sim.Close()
			return fmt.Errorf("write server line: %w", err)
		}
	}
	if o.demo {
		demoNote(stderr, sim, o)
	}
	<-ctx.Done()
	return sim.Close()
}

func demoNote(w io.Writer, sim *uyunisim.Sim, o options) {
	password := o.password
	if password != uyunisim.DefaultPassword {
		password = "<your password>" // never echo a chosen password
	}
	login := fmt.Sprintf("k = s.auth.login(%q, %q)", o.user, password)
	fmt.Fprintf(w, `
The hubgw gateway does not exist yet: this demo runs the simulated Uyuni servers alone.
Talk to them with Python's own XML-RPC client, as spacecmd does:

  python3 -c 'import xmlrpc.client as x; s = x.ServerProxy("%s"); %s; print(s.sync.hub.listPeripheralServers(k))'
`, sim.Hub().URL(), login)
	if ps := sim.Peripherals(); len(ps) > 0 {
		fmt.Fprintf(w, "  python3 -c 'import xmlrpc.client as x; s = x.ServerProxy(\"%s\"); %s; print(s.system.listSystems(k))'\n",
			ps[0].URL(), login)
		fmt.Fprintf(w, "\nInject faults, e.g. take %s down and back up:\n\n"+
			"  curl -X POST -d '{\"down\":true}' http://%s/sim/servers/%s/faults\n"+
			"  curl -X DELETE http://%s/sim/servers/%s/faults\n",
			ps[0].Name(), sim.Hub().FQDN(), ps[0].Name(), sim.Hub().FQDN(), ps[0].Name())
	}
	fmt.Fprint(w, "\nPress Ctrl-C to stop.\n\n")
}
