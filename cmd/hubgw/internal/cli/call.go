package cli

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"regexp"
	"strings"

	"github.com/spf13/cobra"
)

func (a *app) callCmd() *cobra.Command {
	var gateway, format, paramsFlag string
	var targets []string
	cmd := &cobra.Command{
		Use:   "call METHOD [ARG...] [--params JSON|@FILE|@-] [--targets T] [-o table|json]",
		Short: "Call any Uyuni method on the hub, one server or many",
		Long: long(`
Call an Uyuni API method (system.listSystems, or system/listSystems) through the
gateway: on the hub, or with --targets on each of a set of servers (all, hub, a
group, peripheral ids, names or FQDNs; repeated or comma-separated). The session
key is the gateway's business: give only the method's own arguments.

Arguments are positional, in the method's order, or name=value with the
parameter names of the gateway's /openapi.json; positional ones pick the
overload with that many parameters. A value is JSON (42, true, ["a","b"],
{"k":"v"}) or, when it does not parse or the parameter is a string, plain text.
--params takes the parameters as one JSON object, given, from a file (@FILE)
or from standard input (@-), as the REST body; name=value arguments add to it.

The table has one row per server: its outcome, how long it took, and the value
or the fault. -o json prints the gateway's answer as it came: one result for the
hub, {jobId, results, complete} with --targets, the problem for a failed single
call.

A call whose servers did not all answer ok exits 4, so a script can tell "some
servers failed" (the work ran) from 1 (nothing ran: usage, login or gateway).`),
		Example: `  hubgw call system.listSystems --targets all
  hubgw call system.getDetails 1000010000 --targets europe -o json
  hubgw call channel.software.create label=dev-x name="Dev X" summary=x archLabel=channel-x86_64 parentLabel=""
  hubgw call configchannel.createOrUpdatePath --params @motd.json --targets all`,
		Args: cobra.MinimumNArgs(1),
		ValidArgsFunction: func(cmd *cobra.Command, args []string, _ string) ([]string, cobra.ShellCompDirective) {
			if len(args) > 0 {
				return nil, cobra.ShellCompDirectiveNoFileComp
			}
			return a.completeMethods(cmd, gateway)
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			out, err := a.newOutput(cmd, format)
			if err != nil {
				return err
			}
			method := strings.ReplaceAll(strings.Trim(args[0], "/"), "/", ".")
			if !methodName.MatchString(method) {
				return usageError(fmt.Errorf("%q is not a method name (namespace.method, such as system.listSystems)", args[0]))
			}
			c, err := a.client(gateway)
			if err != nil {
				return err
			}
			params, err := readParams(cmd.InOrStdin(), paramsFlag)
			if err != nil {
				return usageError(err)
			}
			if len(args) > 1 {
				d, err := c.document(cmd.Context())
				if err != nil {
					return err
				}
				named, err := namedParams(d, method, args[1:])
				if err == nil && params != nil {
					err = merge(params, named, args[1:])
				} else if err == nil {
					params = named
				}
				if err != nil {
					return usageError(err)
				}
			}
			f, answer, err := c.Call(cmd.Context(), method, params, splitTargets(targets))
			if f == nil {
				return err // nothing ran, or what ran cannot be told
			}
			if out.Format == FormatJSON {
				if err := out.JSON(answer.Body); err != nil {
					return err
				}
			} else if err := out.Table(resultHeader, resultRows(out, f.Results, nil)); err != nil {
				return err
			}
			if n := f.Failed(); n > 0 {
				return &Exit{Code: ExitFailures, Err: fmt.Errorf("%s: %d of %d servers failed", method, n, len(f.Results))}
			}
			return nil
		},
	}
	gatewayFlag(cmd, &gateway)
	addOutputFlag(cmd, &format)
	cmd.Flags().StringVarP(&paramsFlag, "params", "p", "", "the parameters as a JSON object: the text, @FILE, or @- for standard input")
	a.targetsFlag(cmd, &targets, &gateway, "servers to call, fanned out: all, hub, groups, peripheral ids, names or FQDNs (default: the hub alone)")
	return cmd
}

// targetsFlag adds --targets (-t), repeated or comma-separated, completed
// from the gateway's peripherals.
func (a *app) targetsFlag(cmd *cobra.Command, targets *[]string, gateway *string, usage string) {
	cmd.Flags().StringSliceVarP(targets, "targets", "t", nil, usage)
	_ = cmd.RegisterFlagCompletionFunc("targets", func(cmd *cobra.Command, _ []string, toComplete string) ([]string, cobra.ShellCompDirective) {
		return a.completeTargets(cmd, *gateway, toComplete)
	})
}

var (
	methodName = regexp.MustCompile(`^[A-Za-z][A-Za-z0-9_]*(\.[A-Za-z][A-Za-z0-9_]*)+$`)
	namedArg   = regexp.MustCompile(`^([A-Za-z_][A-Za-z0-9_]*)=`)
)

// splitTargets flattens --targets a,b --targets c.
func splitTargets(flags []string) []string {
	var out []string
	for _, f := range flags {
		for t := range strings.SplitSeq(f, ",") {
			if t = strings.TrimSpace(t); t != "" {
				out = append(out, t)
			}
		}
	}
	return out
}

// resultHeader and resultRows are the table of a call's results, one row
// per server; keep, when not nil, picks the rows.
var resultHeader = []string{"server", "outcome", "duration", "value or fault"}

func resultRows(o *Output, rs []Result, keep func(Result) bool) [][]string {
	var rows [][]string
	for _, r := range rs {
		if keep != nil && !keep(r) {
			continue
		}
		var v string
		switch {
		case r.OK && r.ValueOmitted != "":
			v = "(" + r.ValueOmitted + ")"
		case r.OK:
			v = valueText(r.Value)
		case r.FaultCode != 0 || r.FaultString != "" || r.Error != "":
			v = faultText(r.FaultCode, r.FaultString, r.Error)
		}
		// else a job's server still running, or interrupted: no answer
		rows = append(rows, []string{r.ServerName, o.Paint(r.Outcome), duration(r.DurationMs), v})
	}
	return rows
}

// namedParams turns a call's arguments into the named parameters of the
// REST body: all name=value, or all positional, mapped to the names of
// the overload with as many parameters.
func namedParams(d *document, method string, args []string) (map[string]any, error) {
	overloads := d.overloads(method)
	if len(overloads) == 0 {
		return nil, fmt.Errorf("the gateway has no method %s (hubgw call <TAB> lists them)", method)
	}
	types := map[string]string{}
	for _, ps := range overloads {
		for _, p := range ps {
			types[p.Name] = p.Type
		}
	}
	// An argument that reads name=value is one, and a name the method
	// lacks is a typo to report, not text to send: a value that reads so
	// is passed as a JSON string ('"a=b"').
	named := 0
	for _, a := range args {
		if n := namedArg.FindStringSubmatch(a); n != nil {
			if _, known := types[n[1]]; !known {
				return nil, fmt.Errorf("%s has no parameter %s: it takes %s (a value that reads name=value goes in JSON quotes: '\"%s\"')", method, n[1], signatures(overloads), a)
			}
			named++
		}
	}
	params := map[string]any{}
	switch named {
	case len(args):
		for _, a := range args {
			n, v, _ := strings.Cut(a, "=")
			if _, dup := params[n]; dup {
				return nil, fmt.Errorf("%s is given twice", n)
			}
			params[n] = argValue(v, types[n])
		}
		return params, nil
	case 0:
	default:
		return nil, errors.New("give the arguments all as name=value or all positional, not both")
	}
	// Overloads with as many parameters whose types the arguments fit;
	// of those, the one that types the most arguments as JSON wins, as
	// Uyuni picks by the XML-RPC types sent: 42 goes to getDetails(id),
	// dev-1 to getDetails(channelLabel).
	var matches [][]param
	best, counted := -1, 0
	for _, ps := range overloads {
		if len(ps) != len(args) {
			continue
		}
		counted++
		score := 0
		for i, p := range ps {
			ok, typed := fits(args[i], p.Type)
			if !ok {
				score = -1
				break
			}
			if typed {
				score++
			}
		}
		switch {
		case score > best:
			best, matches = score, [][]param{ps}
		case score == best && score >= 0:
			matches = append(matches, ps)
		}
	}
	switch {
	case counted == 0:
		return nil, fmt.Errorf("%s takes %s, not %d arguments", method, signatures(overloads), len(args))
	case best < 0:
		return nil, fmt.Errorf("the arguments fit no overload of %s: %s", method, signatures(overloads))
	case len(matches) > 1:
		return nil, fmt.Errorf("%s has %d overloads the arguments fit: %s; give them as name=value", method, len(matches), signatures(matches))
	}
	for i, p := range matches[0] {
		params[p.Name] = argValue(args[i], p.Type)
	}
	return params, nil
}

// fits says whether an argument can be a parameter of JSON type typ, and
// whether it is as typed JSON (not text any string parameter takes).
func fits(arg, typ string) (ok, typed bool) {
	if typ == "string" || typ == "" {
		return true, false
	}
	switch v := argValue(arg, typ).(type) {
	case json.Number:
		return typ == "number" || (typ == "integer" && !strings.ContainsAny(string(v), ".eE")), true
	case bool:
		return typ == "boolean", true
	case map[string]any:
		return typ == "object", true
	case []any:
		return typ == "array", true
	}
	return false, false
}

// readParams reads --params: a JSON object given, in a file (@FILE) or on
// standard input (@-); nil when not given. Numbers stay exact.
func readParams(stdin io.Reader, flag string) (map[string]any, error) {
	if flag == "" {
		return nil, nil
	}
	src, text := "--params", []byte(flag)
	if name, ok := strings.CutPrefix(flag, "@"); ok {
		var err error
		if name == "-" {
			src = "--params @- (standard input)"
			text, err = io.ReadAll(stdin)
		} else {
			src = "--params " + flag
			text, err = os.ReadFile(name)
		}
		if err != nil {
			return nil, fmt.Errorf("%s: %w", src, err)
		}
	}
	dec := json.NewDecoder(bytes.NewReader(text))
	dec.UseNumber()
	var params map[string]any
	if err := dec.Decode(&params); err != nil || params == nil || dec.More() {
		return nil, fmt.Errorf("%s: want one JSON object of parameters by name, such as {\"channelLabel\": \"dev\"}", src)
	}
	return params, nil
}

// merge adds name=value arguments to --params' object.
func merge(params, named map[string]any, args []string) error {
	for _, a := range args {
		if !namedArg.MatchString(a) {
			return errors.New("with --params, arguments are name=value")
		}
	}
	for n, v := range named {
		if _, dup := params[n]; dup {
			return fmt.Errorf("%s is given twice: in --params and as %s=", n, n)
		}
		params[n] = v
	}
	return nil
}

// signatures lists parameter lists: "(a, b) or (a, b, c)".
func signatures(overloads [][]param) string {
	var s []string
	for _, ps := range overloads {
		var names []string
		for _, p := range ps {
			names = append(names, p.Name)
		}
		s = append(s, "("+strings.Join(names, ", ")+")")
	}
	return strings.Join(s, " or ")
}

// argValue reads one argument for a parameter of JSON type typ: a string
// parameter takes the text as it is (a JSON string literal is unquoted);
// any other takes JSON, numbers kept exact, falling back to the text (the
// gateway then says what was wrong with it, by name).
func argValue(s, typ string) any {
	dec := json.NewDecoder(strings.NewReader(s))
	dec.UseNumber()
	var v any
	err := dec.Decode(&v)
	if err == nil && dec.More() {
		err = errors.New("more than one value")
	}
	if typ == "string" {
		if str, ok := v.(string); ok && err == nil {
			return str
		}
		return s
	}
	if err != nil {
		return s
	}
	return v
}
