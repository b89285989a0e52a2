package fleetids_test

import (
	"context"
	"math"
	"sync"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/hubgw/hubgw/cache"
	"github.com/hubgw/hubgw/cache/redistest"
	"github.com/hubgw/hubgw/gateway/fleetids"
)

func TestGlobalIDs(t *testing.T) {
	ctx := context.Background()
	for name, open := range redistest.Stores() {
		t.Run(name, func(t *testing.T) {
			st := open(t)
			a := fleetids.New(st)
			p1, err := a.Globals(ctx, "system", "1", []int64{1000010000, 1000010001, 1000010000})
			require.NoError(t, err)
			require.Equal(t, p1[0], p1[2], "one object, one id")
			require.NotEqual(t, p1[0], p1[1])
			p2, err := a.Globals(ctx, "system", "2", []int64{1000010000})
			require.NoError(t, err)
			require.NotContains(t, p1, p2[0], "the same local id on another server is another object")
			act, err := a.Globals(ctx, "action", "1", []int64{1000010000})
			require.NoError(t, err)
			require.NotContains(t, append(p1, p2...), act[0], "kinds never share an id")
			for _, g := range append(append(p1, p2...), act...) {
				require.True(t, fleetids.IsGlobal(g))
				require.LessOrEqual(t, g, int64(math.MaxInt32), "fits i4")
			}
			ref, ok, err := a.Local(ctx, p2[0])
			require.NoError(t, err)
			require.True(t, ok)
			require.Equal(t, fleetids.Ref{Kind: "system", Target: "2", Local: 1000010000}, ref)
			_, ok, err = a.Local(ctx, fleetids.Base+1_000_000)
			require.NoError(t, err)
			require.False(t, ok, "an id never given maps nowhere")

			if !st.Shared() {
				return
			}
			// Another replica on the same store (or this one restarted)
			// sees the same ids, and new objects get new ones.
			b := fleetids.New(st)
			again, err := b.Globals(ctx, "system", "1", []int64{1000010001, 1000010000, 1000010002})
			require.NoError(t, err)
			require.Equal(t, []int64{p1[1], p1[0]}, again[:2])
			require.NotContains(t, append(p1, p2...), again[2])
			ref, ok, err = b.Local(ctx, p1[1])
			require.NoError(t, err)
			require.True(t, ok)
			require.Equal(t, int64(1000010001), ref.Local)
		})
	}
}

// Two replicas meeting the same new systems at once agree on their ids.
func TestReplicasAgree(t *testing.T) {
	ctx := context.Background()
	st := redistest.Stores()["redis"](t)
	spaces := []*fleetids.Space{fleetids.New(st), fleetids.New(st), fleetids.New(st)}
	locals := make([]int64, 300)
	for i := range locals {
		locals[i] = 1000010000 + int64(i)
	}
	got := make([][]int64, len(spaces))
	var wg sync.WaitGroup
	for i, s := range spaces {
		wg.Go(func() {
			g, err := s.Globals(ctx, "system", "7", locals)
			require.NoError(t, err)
			got[i] = g
		})
	}
	wg.Wait()
	require.Equal(t, got[0], got[1])
	require.Equal(t, got[0], got[2])
	seen := map[int64]bool{}
	for _, g := range got[0] {
		require.False(t, seen[g], "no id twice")
		seen[g] = true
	}
}

// Without a shared store the space is this process's own.
func TestMemoryStoreIsNotUsed(t *testing.T) {
	st := cache.NewMemory(cache.MemoryOptions{MaxEntries: 1})
	s := fleetids.New(st)
	g, err := s.Globals(context.Background(), "system", "1", []int64{1, 2, 3})
	require.NoError(t, err)
	require.Equal(t, []int64{fleetids.Base, fleetids.Base + 1, fleetids.Base + 2}, g)
}
