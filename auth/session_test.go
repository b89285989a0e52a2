package auth_test

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"regexp"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/hubgw/hubgw/auth"
)

type clock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *clock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.now }
func (c *clock) Add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

func TestNewIDIsSafeForSpacecmd(t *testing.T) {
	seen := map[string]bool{}
	for range 1000 {
		id := auth.NewID()
		require.Regexp(t, regexp.MustCompile(`^gw[0-9a-f]{64}$`), id)
		require.False(t, seen[id])
		seen[id] = true
	}
}

func TestMemoryStoreExpiry(t *testing.T) {
	ctx := context.Background()
	for _, tc := range []struct {
		name    string
		steps   []time.Duration // advance, then Get
		wantErr []bool
	}{
		{"used within idle stays", []time.Duration{20 * time.Minute, 20 * time.Minute, 20 * time.Minute}, []bool{false, false, false}},
		{"idle too long expires", []time.Duration{31 * time.Minute}, []bool{true}},
		{"absolute limit even when used", []time.Duration{25 * time.Minute, 25 * time.Minute, 25 * time.Minute, 25 * time.Minute, 25 * time.Minute}, []bool{false, false, false, false, true}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := &clock{now: time.Unix(0, 0)}
			st := auth.NewMemoryStore(auth.Expiry{Idle: 30 * time.Minute, Absolute: 2 * time.Hour}, 0, c.Now)
			require.NoError(t, st.Create(ctx, &auth.Session{ID: "s1", User: "admin"}))
			for i, d := range tc.steps {
				c.Add(d)
				_, err := st.Get(ctx, "s1")
				if tc.wantErr[i] {
					require.ErrorIs(t, err, auth.ErrNoSession, "step %d", i)
				} else {
					require.NoError(t, err, "step %d", i)
				}
			}
		})
	}
}

func TestMemoryStoreHandsOutCopies(t *testing.T) {
	ctx := context.Background()
	st := auth.NewMemoryStore(auth.Expiry{}, 0, nil)
	require.NoError(t, st.Create(ctx, &auth.Session{ID: "s", Keys: map[string]string{"1": "k1"}}))
	s, err := st.Get(ctx, "s")
	require.NoError(t, err)
	s.Keys["2"] = "k2"
	s2, _ := st.Get(ctx, "s")
	require.Equal(t, map[string]string{"1": "k1"}, s2.Keys)

	require.NoError(t, st.Update(ctx, "s", func(s *auth.Session) error { s.Keys["3"] = "k3"; return nil }))
	s3, _ := st.Get(ctx, "s")
	require.Equal(t, map[string]string{"1": "k1", "3": "k3"}, s3.Keys)

	boom := errors.New("boom")
	require.ErrorIs(t, st.Update(ctx, "s", func(s *auth.Session) error { s.Keys = nil; return boom }), boom)
	s4, _ := st.Get(ctx, "s")
	require.Len(t, s4.Keys, 2, "a failed update changes nothing")

	require.NoError(t, st.Delete(ctx, "s"))
	_, err = st.Get(ctx, "s")
	require.ErrorIs(t, err, auth.ErrNoSession)
	require.ErrorIs(t, st.Update(ctx, "s", func(*auth.Session) error { return nil }), auth.ErrNoSession)
}

func TestMemoryStoreIsBounded(t *testing.T) {
	ctx := context.Background()
	c := &clock{now: time.Unix(0, 0)}
	st := auth.NewMemoryStore(auth.Expiry{}, 3, c.Now)
	for _, id := range []string{"a", "b", "c", "d"} {
		c.Add(time.Second)
		require.NoError(t, st.Create(ctx, &auth.Session{ID: id}))
	}
	require.Equal(t, 3, st.Len())
	_, err := st.Get(ctx, "a")
	require.ErrorIs(t, err, auth.ErrNoSession, "the least recently used session made room")
}

func TestSessionNeverLogsSecrets(t *testing.T) {
	var buf bytes.Buffer
	log := slog.New(slog.NewJSONHandler(&buf, nil))
	s := &auth.Session{ID: "gwsecretid", User: "admin", HubKey: "42xhubkey", Keys: map[string]string{"1": "7xperiph"}, Secret: []byte("hunter2")}
	log.Info("login", "session", s)
	for _, secret := range []string{"gwsecretid", "42xhubkey", "7xperiph", "hunter2"} {
		require.NotContains(t, buf.String(), secret)
	}
	require.Contains(t, buf.String(), `"user":"admin"`)
}

func TestMemoryStoreConcurrentUse(t *testing.T) {
	ctx := context.Background()
	st := auth.NewMemoryStore(auth.Expiry{}, 0, nil)
	require.NoError(t, st.Create(ctx, &auth.Session{ID: "s"}))
	var wg sync.WaitGroup
	for i := range 50 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_ = st.Update(ctx, "s", func(s *auth.Session) error { s.Keys[string(rune('a'+i%26))+string(rune('0'+i/26))] = "k"; return nil })
			_, _ = st.Get(ctx, "s")
		}()
	}
	wg.Wait()
	s, _ := st.Get(ctx, "s")
	require.Len(t, s.Keys, 50)
}
