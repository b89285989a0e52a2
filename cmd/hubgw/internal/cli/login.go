package cli

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"strings"

	"github.com/spf13/cobra"
	"golang.org/x/term"
)

func (a *app) loginCmd() *cobra.Command {
	var gateway, user, mode string
	var passwordStdin bool
	cmd := &cobra.Command{
		Use:   "login --gateway URL -u USER [--mode manual|relay|autoconnect]",
		Short: "Log in to a gateway and keep the token for the other commands",
		Long: long(`
Log in to a gateway and keep its token in the user's config directory
(hubgw/credentials.json, readable by the user only). Without --gateway and
HUBGW_GATEWAY it is the last gateway logged in to; without -u, the user (and
mode) of the session kept for it, to log in again once it expired.

The password comes from --password-stdin (the first line of standard input),
else HUBGW_PASSWORD, else a prompt on the terminal that does not echo.

Modes: manual (the hub only; attach peripherals yourself), relay (the same
credentials are used for each peripheral when first called), autoconnect (log in
to every peripheral now; failures are listed and the login still stands).`),
		Example: `  hubgw login --gateway https://gw.example.com:2830 -u admin --mode autoconnect
  printf '%s\n' "$PASSWORD" | hubgw login --gateway https://gw:2830 -u admin --password-stdin`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			store, creds, err := a.credentials()
			if err != nil {
				return err
			}
			if gateway == "" {
				gateway = a.getenv("HUBGW_GATEWAY")
			}
			if gateway == "" {
				gateway = creds.Current // logging in again after the session expired
			}
			if gateway == "" {
				return usageError(errors.New("no gateway: give --gateway URL or set HUBGW_GATEWAY"))
			}
			gw, err := normalizeGateway(gateway)
			if err != nil {
				return usageError(err)
			}
			if kept := creds.Logins[gw]; user == "" {
				user = kept.Username
				if !cmd.Flags().Changed("mode") && kept.Mode != "" {
					mode = kept.Mode
				}
			}
			if user == "" {
				return usageError(errors.New("no user: give -u USER"))
			}
			switch mode {
			case "manual", "relay", "autoconnect":
			default:
				return usageError(fmt.Errorf("--mode %s: want manual, relay or autoconnect", mode))
			}
			password, err := a.password(cmd, passwordStdin)
			if err != nil {
				return err
			}
			c := &Client{Base: gw, HTTP: a.http}
			la, err := c.Login(cmd.Context(), user, password, mode)
			if err != nil {
				return err
			}
			if creds.Logins == nil {
				creds.Logins = map[string]Login{}
			}
			old := creds.Logins[gw].Token
			creds.Current = gw
			creds.Logins[gw] = Login{Token: la.Token, Username: la.Username, Mode: la.Mode}
			if err := store.Save(creds); err != nil {
				return fmt.Errorf("logged in, but keeping the token failed: %w", err)
			}
			if old != "" && old != la.Token {
				// The replaced session would otherwise live on, logged in
				// to the hub and peripherals, until it idles out. It may
				// be gone already: that is not worth a word.
				_ = (&Client{Base: gw, Token: old, HTTP: a.http}).Logout(cmd.Context())
			}
			fmt.Fprintf(stderr(cmd), "Logged in to %s as %s (%s).\n", gw, la.Username, la.Mode)
			if f := la.Attached; f != nil {
				fmt.Fprintf(stderr(cmd), "Attached %d of %d peripherals.\n", len(f.Results)-f.Failed(), len(f.Results))
				if f.Failed() > 0 {
					o := &Output{W: stderr(cmd), Format: FormatTable}
					return o.Table(resultHeader, resultRows(o, f.Results, func(r Result) bool { return !r.OK }))
				}
			}
			return nil
		},
	}
	gatewayFlag(cmd, &gateway)
	f := cmd.Flags()
	f.StringVarP(&user, "username", "u", "", "the hub user")
	f.StringVar(&mode, "mode", "manual", "manual, relay or autoconnect")
	f.BoolVar(&passwordStdin, "password-stdin", false, "read the password from the first line of standard input")
	_ = cmd.RegisterFlagCompletionFunc("mode", cobra.FixedCompletions([]string{"manual", "relay", "autoconnect"}, cobra.ShellCompDirectiveNoFileComp))
	return cmd
}

// password reads the password: standard input's first line, else
// HUBGW_PASSWORD, else a prompt without echo when there is a terminal.
func (a *app) password(cmd *cobra.Command, fromStdin bool) (string, error) {
	if fromStdin {
		line, err := bufio.NewReader(cmd.InOrStdin()).ReadString('\n')
		if err != nil && !errors.Is(err, io.EOF) {
			return "", fmt.Errorf("reading the password from standard input: %w", err)
		}
		if line = strings.TrimRight(line, "\r\n"); line == "" {
			return "", usageError(errors.New("--password-stdin: standard input has no password"))
		}
		return line, nil
	}
	if p := a.getenv("HUBGW_PASSWORD"); p != "" {
		return p, nil
	}
	in, ok := cmd.InOrStdin().(*os.File)
	if !ok || !term.IsTerminal(int(in.Fd())) {
		return "", usageError(errors.New("no password: give --password-stdin or HUBGW_PASSWORD, or run on a terminal to be asked"))
	}
	fmt.Fprint(stderr(cmd), "Password: ")
	b, err := term.ReadPassword(int(in.Fd()))
	fmt.Fprintln(stderr(cmd))
	if err != nil {
		return "", fmt.Errorf("reading the password: %w", err)
	}
	return string(b), nil
}

func (a *app) logoutCmd() *cobra.Command {
	var gateway string
	cmd := &cobra.Command{
		Use:   "logout",
		Short: "Log out of the gateway (and every peripheral) and forget the token",
		Long: long(`
Log out of the gateway, which logs the session out of the hub and every attached
peripheral, and remove the kept token. A session the gateway no longer knows
(expired), or a gateway that cannot be reached (exit 1), forgets the token all
the same.`),
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			c, err := a.client(gateway)
			if err != nil {
				return err
			}
			err = c.Logout(cmd.Context())
			var pe *ProblemError
			if errors.As(err, &pe) && pe.Problem.Status == http.StatusUnauthorized {
				err = nil // already gone: forgetting it is all there is to do
			}
			// The token is forgotten even when the gateway could not be
			// told (gone for good, say): that much the user can do here.
			if ferr := a.forget(c); ferr != nil {
				return ferr
			}
			if err != nil {
				return fmt.Errorf("forgot the token, but the session could not be logged out (it ends when it idles out): %w", err)
			}
			fmt.Fprintf(stderr(cmd), "Logged out of %s.\n", c.Base)
			return nil
		},
	}
	gatewayFlag(cmd, &gateway)
	return cmd
}

// forget removes the kept token of c's gateway, if it is c's.
func (a *app) forget(c *Client) error {
	store, creds, err := a.credentials()
	if err != nil {
		return err
	}
	l, ok := creds.Logins[c.Base]
	if !ok || l.Token != c.Token {
		return nil // HUBGW_TOKEN's session: the kept one is another
	}
	delete(creds.Logins, c.Base) // Current stays: "not logged in to <it>" says more than "no gateway"
	return store.Save(creds)
}

// credentials opens the store and reads the kept logins.
func (a *app) credentials() (Store, Credentials, error) {
	store, err := a.store()
	if err != nil {
		return store, Credentials{}, err
	}
	creds, err := store.Load()
	return store, creds, err
}
