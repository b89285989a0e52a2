package main

import (
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/hubgw/hubgw/adapters/server"
)

func TestConfigLayers(t *testing.T) {
	yamlFile := filepath.Join(t.TempDir(), "hubgw.yaml")
	require.NoError(t, os.WriteFile(yamlFile, []byte(`
hub-url: https://yaml-hub/rpc/api
max-per-server: 3
peripherals:
  p1.example.com:
    url: https://10.0.0.1:8443/rpc/api
    insecure: true
`), 0o600))
	for _, tc := range []struct {
		name  string
		args  []string
		env   []string
		check func(t *testing.T, c server.Config)
	}{
		{"defaults", nil, nil, func(t *testing.T, c server.Config) {
			require.Equal(t, ":2830", c.Listen)
			require.Equal(t, "https", c.PeripheralScheme)
		}},
		{"hub-xmlrpc-api environment", nil, []string{"HUB_API_URL=http://127.0.0.1:9000/rpc/api", "HUB_CONNECT_USING_SSL=false", "HUB_CONNECT_TIMEOUT=3", "HUB_REQUEST_TIMEOUT=7"}, func(t *testing.T, c server.Config) {
			require.Equal(t, "http://127.0.0.1:9000/rpc/api", c.HubURL)
			require.Equal(t, "http", c.PeripheralScheme)
			require.Equal(t, 3*time.Second, c.ConnectTimeout)
			require.Equal(t, 7*time.Second, c.RequestTimeout)
		}},
		{"HUBGW_ beats HUB_, flags beat both", []string{"--listen", "127.0.0.1:2831"}, []string{"HUB_API_URL=http://a/rpc/api", "HUBGW_HUB_URL=http://b/rpc/api", "HUBGW_LISTEN=:1", "HUBGW_MAX_PER_SERVER=9"}, func(t *testing.T, c server.Config) {
			require.Equal(t, "http://b/rpc/api", c.HubURL)
			require.Equal(t, "127.0.0.1:2831", c.Listen)
			require.Equal(t, 9, c.MaxPerServer)
		}},
		{"yaml file", []string{"--config", yamlFile}, nil, func(t *testing.T, c server.Config) {
			require.Equal(t, "https://yaml-hub/rpc/api", c.HubURL)
			require.Equal(t, 3, c.MaxPerServer)
			require.Equal(t, "https://10.0.0.1:8443/rpc/api", c.Peripherals["p1.example.com"].URL)
			require.True(t, c.Peripherals["p1.example.com"].Insecure)
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg, err := load(t, tc.args, tc.env)
			require.NoError(t, err)
			tc.check(t, cfg)
		})
	}
}

func TestConfigErrorsAreClear(t *testing.T) {
	_, err := load(t, []string{"--hub-url", "hub.example.com", "--peripheral-scheme", "ftp"}, nil)
	require.ErrorContains(t, err, `hub-url "hub.example.com" must start with http:// or https://`)
	require.ErrorContains(t, err, `peripheral-scheme "ftp"`)
}

// load reads the configuration as `hubgw serve ARGS` does with the environment env.
func load(t *testing.T, args, env []string) (server.Config, error) {
	t.Helper()
	cmd := serveCmd()
	require.NoError(t, cmd.Flags().Parse(args))
	return loadConfig(cmd.Flags(), env)
}

// loadWanting loads args and env and checks the error: one containing
// wantErr when it is set (ok false: nothing more to check), else none.
func loadWanting(t *testing.T, args, env []string, wantErr string) (cfg server.Config, ok bool) {
	t.Helper()
	cfg, err := load(t, args, env)
	if wantErr != "" {
		require.ErrorContains(t, err, wantErr)
		return cfg, false
	}
	require.NoError(t, err)
	return cfg, true
}
