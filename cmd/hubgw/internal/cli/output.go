package cli

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/jedib0t/go-pretty/v6/table"
	"github.com/jedib0t/go-pretty/v6/text"
	"github.com/spf13/cobra"
	"golang.org/x/term"
)

// Output formats of -o.
const (
	FormatTable = "table"
	FormatJSON  = "json"
)

// Output writes what a command shows: tables for people, the REST answer
// as is for scripts. Every client command writes through one, so plan,
// apply and rollout get the same tables, colours and JSON.
type Output struct {
	W      io.Writer
	Notes  io.Writer // stderr: remarks that are not the output (nil: none)
	Format string
	// TTY: W is a terminal; Color: and colour is wanted there (NO_COLOR
	// unset, TERM not dumb); Width: its columns (0: unbounded).
	TTY, Color bool
	Width      int
}

// addOutputFlag adds -o to cmd: table, json, and the command's own
// formats, each given as "name: what it shows".
func addOutputFlag(cmd *cobra.Command, format *string, extra ...string) {
	usage := "output format: table (for people), json (the gateway's answer as is, for scripts)"
	names := []string{FormatTable, FormatJSON}
	for _, e := range extra {
		name, what, _ := strings.Cut(e, ": ")
		names = append(names, name)
		usage += ", " + name + " (" + what + ")"
	}
	cmd.Flags().StringVarP(format, "output", "o", FormatTable, usage)
	_ = cmd.RegisterFlagCompletionFunc("output", cobra.FixedCompletions(names, cobra.ShellCompDirectiveNoFileComp))
}

// newOutput checks the format (table, json or one of extra) and looks at
// the command's stdout.
func (a *app) newOutput(cmd *cobra.Command, format string, extra ...string) (*Output, error) {
	if format != FormatTable && format != FormatJSON && !slices.Contains(extra, format) {
		return nil, usageError(fmt.Errorf("-o %s: want one of %s", format, strings.Join(append([]string{FormatTable, FormatJSON}, extra...), ", ")))
	}
	o := &Output{W: cmd.OutOrStdout(), Notes: cmd.ErrOrStderr(), Format: format}
	if f, ok := o.W.(*os.File); ok && term.IsTerminal(int(f.Fd())) {
		o.TTY = true
		o.Color = a.getenv("NO_COLOR") == "" && a.getenv("TERM") != "dumb"
		if w, _, err := term.GetSize(int(f.Fd())); err == nil {
			o.Width = w
		}
	}
	return o, nil
}

// JSON writes a REST answer as received, ending in a newline.
func (o *Output) JSON(body []byte) error {
	body = bytes.TrimRight(body, "\n")
	_, err := fmt.Fprintf(o.W, "%s\n", body)
	return err
}

// Table writes rows under header: no borders, columns aligned, as
// kubectl does, so the lines read well and still split with awk. Long
// cells are cut to the terminal's width on a terminal only.
func (o *Output) Table(header []string, rows [][]string) error {
	t := table.NewWriter()
	t.SetOutputMirror(nil)
	style := table.StyleDefault
	style.Options = table.Options{}
	style.Box.PaddingLeft, style.Box.PaddingRight = "", strings.Repeat(" ", columnGap)
	style.Format.Header = text.FormatUpper
	t.SetStyle(style)
	row := func(cells []string) table.Row {
		r := make(table.Row, len(cells))
		for i, c := range cells {
			r[i] = c
		}
		return r
	}
	t.AppendHeader(row(header))
	for _, r := range rows {
		t.AppendRow(row(r))
	}
	cut := false
	if o.TTY && o.Width > 0 && len(header) > 0 {
		last := len(header)
		t.SetColumnConfigs([]table.ColumnConfig{{
			Number:   last,
			WidthMax: o.lastColumnWidth(header, rows),
			WidthMaxEnforcer: func(s string, n int) string {
				e := ellipsis(s, n)
				cut = cut || e != s
				return e
			},
		}})
	}
	var b strings.Builder
	for line := range strings.Lines(t.Render()) {
		b.WriteString(strings.TrimRight(line, " \n"))
		b.WriteByte('\n')
	}
	if _, err := io.WriteString(o.W, b.String()); err != nil {
		return err
	}
	if cut && o.Notes != nil {
		fmt.Fprintln(o.Notes, "(long values are cut to the terminal's width: -o json shows them whole)")
	}
	return nil
}

// columnGap is the space between columns (the style's right padding).
const columnGap = 3

// lastColumnWidth is what the terminal leaves for the last column (the
// value or fault, the one that runs long) once the others are laid out;
// at least 20.
func (o *Output) lastColumnWidth(header []string, rows [][]string) int {
	used := 0
	for i := range len(header) - 1 {
		w := text.StringWidthWithoutEscSequences(header[i])
		for _, r := range rows {
			if i < len(r) {
				w = max(w, text.StringWidthWithoutEscSequences(r[i]))
			}
		}
		used += w + columnGap
	}
	return max(o.Width-1-used, 20) // -1: a line as wide as the terminal wraps on some
}

// ellipsis cuts s to n columns, marking the cut.
func ellipsis(s string, n int) string {
	if text.StringWidthWithoutEscSequences(s) <= n {
		return s
	}
	return text.Trim(s, n-1) + "…"
}

// Paint colours an outcome, status or plan action: green when good or
// done, yellow while running or to be done, red otherwise; plain without
// colour.
func (o *Output) Paint(s string) string {
	if !o.Color {
		return s
	}
	c := text.FgRed
	switch s {
	case "ok", "done", "noop", "unchanged", "created", "updated", "succeeded":
		c = text.FgGreen
	case "running", "pending", "create", "update", "paused", "deferred":
		c = text.FgYellow
	}
	return text.Colors{c}.Sprint(s)
}

// valueText is a value or fault for a table cell: JSON on one line,
// strings without quotes.
func valueText(v json.RawMessage) string {
	var s string
	if json.Unmarshal(v, &s) == nil {
		return oneLine(s)
	}
	var b bytes.Buffer
	if json.Compact(&b, v) != nil {
		return string(v)
	}
	return b.String()
}

// faultText is a failed result for a table cell.
func faultText(code int, msg, detail string) string {
	s := fmt.Sprintf("fault %d: %s", code, msg)
	if detail != "" && !strings.Contains(msg, detail) {
		s += " (" + detail + ")"
	}
	return oneLine(s)
}

// oneLine folds runs of white space, line breaks included, into one
// space: a cell or an error message is one line.
func oneLine(s string) string { return strings.Join(strings.Fields(s), " ") }

// duration reads as people write it: 12ms, 1.5s, 2m3s.
func duration(ms int64) string {
	d := time.Duration(ms) * time.Millisecond
	if d < time.Second {
		return fmt.Sprintf("%dms", ms)
	}
	return d.Round(100 * time.Millisecond).String()
}

// when is a time for a table: local, to the second.
func when(t time.Time) string {
	if t.IsZero() {
		return "-"
	}
	return t.Local().Format("2006-01-02 15:04:05")
}
