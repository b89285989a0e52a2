// Package cli is hubgw's command line for people and scripts: the client
// commands (login, logout, call, jobs, plan, apply, rollout, export) talking to a gateway over its REST
// surface, with a login that is remembered, tables on a terminal, the
// gateway's JSON for scripts, and exit codes that mean something.
//
// The pieces every command shares: Client (the REST calls), Store (the
// remembered logins), Output (-o table|json, colour) and the exit codes
// below.
package cli

import (
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"strings"
	"time"

	"github.com/spf13/cobra"
)

// Exit codes (README, "Command line").
const (
	ExitOK = 0
	// ExitError: usage, document, login or gateway error; nothing was
	// done, or what was cannot be told.
	ExitError = 1
	// ExitChanges: a plan with --detailed-exitcode found objects that are
	// not as declared on some server.
	ExitChanges = 2
	// ExitHalted: a rollout halted (its failure budget spent) or was
	// aborted.
	ExitHalted = 3
	// ExitFailures: the work finished and some servers failed (a call
	// with a failed result, an apply with failed, conflicting, blocked or
	// unreachable objects, a rollout with failures within its budget or
	// servers deferred).
	ExitFailures = 4
	// ExitPaused: a rollout waits for hubgw rollout resume (after the
	// canary, or its session expired).
	ExitPaused = 5
	// ExitIncomplete: a plan could not read some servers, so it does not
	// say what apply would do there.
	ExitIncomplete = 6
)

// ExitCodesHelp is the exit codes section of --help.
const ExitCodesHelp = `Exit codes:
  0  done: every server answered ok; converged, a rollout succeeded, or no changes planned
  1  usage, document, login or gateway error (nothing was done, or what was cannot be told)
  2  plan --detailed-exitcode: changes planned (create, update, conflict or blocked objects)
  3  rollout halted (its failure budget spent) or aborted
  4  finished with failures: the call, apply or rollout ran and some servers failed within its budget,
     or were deferred (see the table or JSON)
  5  rollout paused: waiting for hubgw rollout resume (after the canary, or a new login)
  6  plan incomplete: some servers could not be read (their objects are "unknown")`

// Exit carries an exit code other than 1 with its message.
type Exit struct {
	Code int
	Err  error
}

func (e *Exit) Error() string {
	if e.Err == nil {
		return "" // nothing to say: the code is the answer (a plan's 2)
	}
	return e.Err.Error()
}
func (e *Exit) Unwrap() error { return e.Err }

// ExitCode is the process's exit code for a command's error.
func ExitCode(err error) int {
	var ee *Exit
	switch {
	case err == nil:
		return ExitOK
	case errors.As(err, &ee):
		return ee.Code
	}
	return ExitError
}

// usageError marks a mistake on the command line (exit 1, as cobra's own
// usage errors).
func usageError(err error) error { return &Exit{Code: ExitError, Err: err} }

// app is what the client commands share: the process's environment and
// how to reach the gateway.
type app struct {
	getenv func(string) string
	store  func() (Store, error)
	http   *http.Client
}

// AddCommands adds the client commands to hubgw's root command and the
// exit codes to its help.
func AddCommands(root *cobra.Command) {
	a := &app{getenv: os.Getenv, store: DefaultStore, http: &http.Client{Transport: transport()}}
	root.AddCommand(a.loginCmd(), a.logoutCmd(), a.callCmd(), a.jobsCmd(), a.planCmd(), a.applyCmd(), a.rolloutCmd(), a.exportCmd())
	if root.Long == "" {
		root.Long = root.Short
	}
	root.Long += "\n\nClient commands (login, logout, call, jobs, plan, apply, rollout, export) talk to a gateway over REST; the login is\n" +
		"kept in the user's config directory, HUBGW_GATEWAY and HUBGW_TOKEN override it.\n\n" + ExitCodesHelp
}

// transport is http.DefaultTransport's settings with bounded connecting:
// a gateway address that drops packets fails in seconds with one line,
// not after the system's TCP timeout. Answers are not bounded: a fan-out
// may take as long as the gateway's --call-timeout. A private CA is
// trusted with SSL_CERT_FILE, as by every Go program.
func transport() *http.Transport {
	t := http.DefaultTransport.(*http.Transport).Clone()
	t.DialContext = (&net.Dialer{Timeout: 10 * time.Second, KeepAlive: 30 * time.Second}).DialContext
	t.TLSHandshakeTimeout = 10 * time.Second
	return t
}

// long is a client command's help: its text, then the exit codes.
func long(text string) string { return strings.TrimSpace(text) + "\n\n" + ExitCodesHelp }

// gatewayFlag adds --gateway to cmd.
func gatewayFlag(cmd *cobra.Command, gateway *string) {
	cmd.Flags().StringVar(gateway, "gateway", "", "the gateway's base URL, such as https://gw.example.com:2830 (HUBGW_GATEWAY; default: the last login's)")
}

// client is a REST client for the gateway named by the flag, else
// HUBGW_GATEWAY, else the last login; its token is HUBGW_TOKEN, else the
// one kept for that gateway.
func (a *app) client(flagGateway string) (*Client, error) {
	gw := flagGateway
	if gw == "" {
		gw = a.getenv("HUBGW_GATEWAY")
	}
	_, creds, err := a.credentials()
	if err != nil && !errors.Is(err, errNoConfigDir) {
		return nil, err // no config directory (no HOME): HUBGW_GATEWAY and HUBGW_TOKEN still work
	}
	if gw == "" {
		gw = creds.Current
	}
	if gw == "" {
		return nil, errors.New("no gateway: run hubgw login --gateway URL, or set HUBGW_GATEWAY")
	}
	if gw, err = normalizeGateway(gw); err != nil {
		return nil, usageError(err)
	}
	token := a.getenv("HUBGW_TOKEN")
	if token == "" {
		token = creds.Logins[gw].Token
	}
	if token == "" {
		return nil, fmt.Errorf("not logged in to %s: run hubgw login --gateway %s -u USER, or set HUBGW_TOKEN", gw, gw)
	}
	return &Client{Base: gw, Token: token, HTTP: a.http}, nil
}

// stderr is where a command's notes go.
func stderr(cmd *cobra.Command) io.Writer { return cmd.ErrOrStderr() }
