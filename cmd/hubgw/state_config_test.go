package main

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

func TestStateConfig(t *testing.T) {
	for _, tc := range []struct {
		name string
		args []string
		env  []string
		err  string
		want func(t *testing.T, url, key, readCache string, jobs bool, retention time.Duration)
	}{
		{name: "memory by default", want: func(t *testing.T, url, key, rc string, jobs bool, ret time.Duration) {
			require.Empty(t, url)
			require.True(t, jobs)
			require.Equal(t, 24*time.Hour, ret)
		}},
		{name: "env twins", env: []string{"HUBGW_REDIS_URL=redis://r:6379/1", "HUBGW_SECRET_KEY_FILE=/k", "HUBGW_READ_CACHE=system.listSystems=30s", "HUBGW_JOBS=false", "HUBGW_JOB_RETENTION=1h"},
			want: func(t *testing.T, url, key, rc string, jobs bool, ret time.Duration) {
				require.Equal(t, "redis://r:6379/1", url)
				require.Equal(t, "/k", key)
				require.Equal(t, "system.listSystems=30s", rc)
				require.False(t, jobs)
				require.Equal(t, time.Hour, ret)
			}},
		{name: "redis without a secret key refuses to start", args: []string{"--redis-url", "redis://r:6379"}, err: "secret-key-file is not"},
		{name: "bad redis URL", args: []string{"--redis-url", "http://r", "--secret-key-file", "/k"}, err: "scheme must be"},
		{name: "bad read cache", args: []string{"--read-cache", "system.scheduleReboot=1m"}, err: "not a read-only method"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg, err := load(t, tc.args, tc.env)
			if tc.err != "" {
				require.ErrorContains(t, err, tc.err)
				return
			}
			require.NoError(t, err)
			tc.want(t, cfg.RedisURL, cfg.SecretKeyFile, cfg.ReadCache, cfg.Jobs, cfg.JobRetention)
		})
	}
}
