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
			require.Equal(t, 6*time.Hour, ret)
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
			cfg, ok := loadWanting(t, tc.args, tc.env, tc.err)
			if !ok {
				return
			}
			tc.want(t, cfg.RedisURL, cfg.SecretKeyFile, cfg.ReadCache, cfg.Jobs, cfg.JobRetention)
		})
	}
}

// The job store's byte budgets: defaults, flags and their env twins, and a
// clear refusal of budgets that cannot work.
func TestJobBudgetConfig(t *testing.T) {
	for _, tc := range []struct {
		name                string
		args, env           []string
		err                 string
		total, user, perJob int64
	}{
		{name: "defaults", total: 128 << 20, user: 32 << 20, perJob: 4 << 20},
		{name: "flags", args: []string{"--job-max-bytes", "1048576", "--job-max-user-bytes", "524288", "--job-max-answer-bytes", "65536"},
			total: 1 << 20, user: 512 << 10, perJob: 64 << 10},
		{name: "env twins", env: []string{"HUBGW_JOB_MAX_BYTES=2097152", "HUBGW_JOB_MAX_USER_BYTES=1048576", "HUBGW_JOB_MAX_ANSWER_BYTES=1024"},
			total: 2 << 20, user: 1 << 20, perJob: 1 << 10},
		{name: "negative budget", args: []string{"--job-max-bytes", "-1"}, err: "job-max-bytes (-1), job-max-user-bytes (33554432) and job-max-answer-bytes (4194304) must be positive"},
		{name: "zero user budget", args: []string{"--job-max-user-bytes", "0"}, err: "must be positive byte counts"},
		{name: "user budget over the total", args: []string{"--job-max-bytes", "1000", "--job-max-user-bytes", "2000"}, err: "job-max-user-bytes (2000) must not be larger than job-max-bytes (1000)"},
		{name: "no budget needed without jobs", args: []string{"--jobs=false", "--job-max-bytes", "-1"}, total: -1, user: 32 << 20, perJob: 4 << 20},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg, ok := loadWanting(t, tc.args, tc.env, tc.err)
			if !ok {
				return
			}
			require.Equal(t, []int64{tc.total, tc.user, tc.perJob}, []int64{cfg.JobMaxBytes, cfg.JobMaxUserBytes, cfg.JobMaxAnswerBytes})
		})
	}
}
