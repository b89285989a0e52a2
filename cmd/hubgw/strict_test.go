package main

import (
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/hubgw/hubgw/adapters/server"
)

// A typo in hubgw.yaml or a HUBGW_ variable stops the start with the
// key's name and the setting it probably meant, instead of leaving the
// default silently in force.
func TestUnknownSettingsAreRefused(t *testing.T) {
	for _, tc := range []struct {
		name, yaml string
		env        []string
		want       []string
		notWant    string
	}{
		{name: "a top-level typo", yaml: "max-per-sever: 3\n",
			want: []string{`unknown setting "max-per-sever" (did you mean "max-per-server"?)`}},
		{name: "a typo in a peripheral", yaml: "peripherals:\n  p1.example.com:\n    url: https://p1/rpc/api\n    ca-fle: /ca.pem\n",
			want: []string{`unknown setting "peripherals.p1.example.com.ca-fle" (did you mean "peripherals.p1.example.com.ca-file"?)`}},
		{name: "nothing near", yaml: "colour: blue\n", want: []string{`unknown setting "colour"`}, notWant: "did you mean"},
		{name: "all at once", yaml: "listn: :1\nhub_url: http://h/rpc/api\n",
			want: []string{`"listn" (did you mean "listen"?)`, `"hub_url" (did you mean "hub-url"?)`}},
		{name: "an environment variable", env: []string{"HUBGW_CALL_TIMEOUTS=1m", "HUB_API_URL=http://h/rpc/api", "PATH=/bin", "HUBGW_TOKEN=t"},
			want: []string{`unknown setting "HUBGW_CALL_TIMEOUTS" (did you mean "HUBGW_CALL_TIMEOUT"?)`}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var args []string
			if tc.yaml != "" {
				path := filepath.Join(t.TempDir(), "hubgw.yaml")
				require.NoError(t, os.WriteFile(path, []byte(tc.yaml), 0o600))
				args = []string{"--config", path}
			}
			_, err := load(t, args, tc.env)
			require.Error(t, err)
			for _, w := range tc.want {
				require.ErrorContains(t, err, w)
			}
			if tc.notWant != "" {
				require.NotContains(t, err.Error(), tc.notWant)
			}
			require.NotContains(t, err.Error(), "HUBGW_TOKEN", "the client commands' variables are not serve's settings")
		})
	}
}

// Every HUBGW_ variable the client commands read is known to serve's
// check, so having one set never stops a gateway from starting.
func TestClientVariablesAreNotUnknownSettings(t *testing.T) {
	files, err := filepath.Glob("internal/cli/*.go")
	require.NoError(t, err)
	require.NotEmpty(t, files)
	seen := map[string]bool{}
	for _, f := range files {
		b, err := os.ReadFile(f)
		require.NoError(t, err)
		for _, name := range regexp.MustCompile(`HUBGW_[A-Z_]+[A-Z]`).FindAllString(string(b), -1) {
			seen[name] = true
		}
	}
	require.NotEmpty(t, seen)
	for name := range seen {
		require.NoError(t, unknownEnv([]string{name + "=x"}, reflect.TypeFor[server.Config]()), "%s, read by internal/cli", name)
	}
}
