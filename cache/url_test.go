package cache_test

import (
	"context"
	"net"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/hubgw/hubgw/cache"
	"github.com/hubgw/hubgw/cache/redistest"
)

func TestParseURL(t *testing.T) {
	tests := []struct {
		url  string
		want cache.Spec
		err  string
	}{
		{url: "redis://localhost:6379", want: cache.Spec{Kind: "standalone", Addrs: []string{"localhost:6379"}}},
		{url: "redis://:secret@10.0.0.5/2", want: cache.Spec{Kind: "standalone", Addrs: []string{"10.0.0.5:6379"}, DB: 2}},
		{url: "rediss://user:pw@redis.example.com:6380/0?dial_timeout=3s", want: cache.Spec{Kind: "standalone", Addrs: []string{"redis.example.com:6380"}, TLS: true}},
		{url: "redis-sentinel://s1:26379?master_name=mymaster&addr=s2:26379&addr=s3:26379",
			want: cache.Spec{Kind: "sentinel", Addrs: []string{"s1:26379", "s2:26379", "s3:26379"}, Master: "mymaster"}},
		{url: "rediss-sentinel://:pw@s1:26379/1?master_name=m", want: cache.Spec{Kind: "sentinel", Addrs: []string{"s1:26379"}, Master: "m", DB: 1, TLS: true}},
		{url: "redis-cluster://n1:7000?addr=n2:7001", want: cache.Spec{Kind: "cluster", Addrs: []string{"n1:7000", "n2:7001"}, Reload: 2 * time.Second}},
		{url: "rediss-cluster://u:p@n1:7000", want: cache.Spec{Kind: "cluster", Addrs: []string{"n1:7000"}, TLS: true, Reload: 2 * time.Second}},
		{url: "redis-cluster://n1:7000?cluster_state_reload_interval=500ms&addr=n2:7001&dial_timeout=1s",
			want: cache.Spec{Kind: "cluster", Addrs: []string{"n1:7000", "n2:7001"}, Reload: 500 * time.Millisecond}},
		{url: "redis-cluster://n1:7000?cluster_state_reload_interval=10", want: cache.Spec{Kind: "cluster", Addrs: []string{"n1:7000"}, Reload: 10 * time.Second}},

		{url: "http://localhost:6379", err: "scheme must be"},
		{url: "redis-ring://h:1", err: "unknown scheme"},
		{url: "redis-sentinel://s1:26379", err: "master_name"},
		{url: "redis-cluster://n1:7000/3", err: "no database"},
		{url: "redis-cluster://:hunter2@n1:7000?cluster_state_reload_interval=-1s", err: "want a positive duration"},
		{url: "redis-cluster://:hunter2@n1:7000?cluster_state_reload_interval=soon", err: "want a positive duration"},
		{url: "redis://:hunter2@h:1?cluster_state_reload_interval=1s", err: "unexpected option"},
		{url: "redis://h:1/notanumber", err: "invalid database"},
		{url: "redis://:hunter2@h:1?no_such_option=1", err: "unexpected option"},
		{url: "redis://:hunter2@h:1/x/y", err: "invalid URL path"},
	}
	for _, tt := range tests {
		t.Run(tt.url, func(t *testing.T) {
			got, err := cache.ParseURL(tt.url)
			if tt.err != "" {
				require.ErrorContains(t, err, tt.err)
				require.NotContains(t, err.Error(), "hunter2", "passwords stay out of messages")
				return
			}
			require.NoError(t, err)
			require.Equal(t, tt.want, got)
		})
	}
}

func TestRedisSentinel(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a master and a sentinel")
	}
	u := redistest.StartSentinel(t, 0, 1).URL
	r, err := cache.NewRedis(u, cache.RedisOptions{Prefix: redistest.Prefix(t), Timeout: 5 * time.Second})
	require.NoError(t, err)
	defer r.Close()
	ctx := context.Background()
	require.NoError(t, r.Set(ctx, "k", []byte("via sentinel"), time.Minute))
	v, err := r.Get(ctx, "k")
	require.NoError(t, err)
	require.Equal(t, "via sentinel", string(v))
}

// The cluster test exercises what only a cluster checks: that no single
// operation spans keys on different slots.
func TestRedisCluster(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a three-node cluster")
	}
	u := redistest.StartCluster(t, 3, 0).URL
	r, err := cache.NewRedis(u, cache.RedisOptions{Prefix: redistest.Prefix(t), Timeout: 5 * time.Second})
	require.NoError(t, err)
	defer r.Close()
	ctx := context.Background()
	require.NoError(t, r.Batch(ctx, func(b cache.Batch) {
		for _, k := range []string{"a", "b", "c", "d", "e"} {
			b.Set(k, []byte(k), time.Minute)
			b.HSet("h:"+k, time.Minute, map[string][]byte{"f": []byte(k)})
			b.ZAdd("z", time.Minute, 1, k)
		}
	}))
	require.NoError(t, r.Delete(ctx, "a", "b", "c"))
	require.NoError(t, r.Update(ctx, "d", 0, func(b []byte) ([]byte, error) { return append(b, '!'), nil }))
	v, err := r.Get(ctx, "d")
	require.NoError(t, err)
	require.Equal(t, "d!", string(v))
	got, err := r.ZRevRange(ctx, "z", 10)
	require.NoError(t, err)
	require.Len(t, got, 5)
}

// listenSilently accepts connections and never answers.
func listenSilently(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	t.Cleanup(func() { l.Close() })
	go func() {
		var conns []net.Conn
		defer func() {
			for _, c := range conns {
				c.Close()
			}
		}()
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			conns = append(conns, c)
		}
	}()
	return l.Addr().String()
}

func TestRedisTLS(t *testing.T) {
	u, ca := redistest.TLS(t)
	ctx := context.Background()

	r, err := cache.NewRedis(u, cache.RedisOptions{Prefix: redistest.Prefix(t), CAFile: ca})
	require.NoError(t, err)
	defer r.Close()
	require.NoError(t, r.Set(ctx, "k", []byte("over TLS"), time.Minute))
	v, err := r.Get(ctx, "k")
	require.NoError(t, err)
	require.Equal(t, "over TLS", string(v))

	// Without trusting its certificate, the server is refused.
	untrusted, err := cache.NewRedis(u, cache.RedisOptions{Timeout: time.Second})
	require.NoError(t, err)
	defer untrusted.Close()
	require.ErrorContains(t, untrusted.Ping(ctx), "certificate")

	_, err = cache.NewRedis("redis://127.0.0.1:1", cache.RedisOptions{CAFile: ca})
	require.ErrorContains(t, err, "does not use TLS")
}
