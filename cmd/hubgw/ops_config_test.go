package main

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/hubgw/hubgw/adapters/server"
)

func TestOpsSettings(t *testing.T) {
	for _, tc := range []struct {
		name string
		args []string
		env  []string
		err  string
		want func(t *testing.T, c server.Config)
	}{
		{name: "the shutdown grace defaults to the call timeout", args: []string{"--call-timeout", "7m"}, want: func(t *testing.T, c server.Config) {
			require.Equal(t, 7*time.Minute, c.Grace())
			require.Zero(t, c.DrainDelay)
		}},
		{name: "or is set", env: []string{"HUBGW_SHUTDOWN_GRACE=45s", "HUBGW_DRAIN_DELAY=5s"}, want: func(t *testing.T, c server.Config) {
			require.Equal(t, 45*time.Second, c.Grace())
			require.Equal(t, 5*time.Second, c.DrainDelay)
		}},
		{name: "TLS files", args: []string{"--tls-cert", "/etc/hubgw/tls.crt", "--tls-key", "/etc/hubgw/tls.key"}, want: func(t *testing.T, c server.Config) {
			require.Equal(t, "/etc/hubgw/tls.crt", c.TLSCert)
			require.Equal(t, "/etc/hubgw/tls.key", c.TLSKey)
		}},
		{name: "a certificate needs its key", args: []string{"--tls-cert", "/c"}, err: "tls-cert and tls-key go together"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg, ok := loadWanting(t, tc.args, tc.env, tc.err)
			if !ok {
				return
			}
			tc.want(t, cfg)
		})
	}
}
