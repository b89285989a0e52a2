package fanout_test

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/hubgw/hubgw/gateway/fanout"
)

func TestAnswersArena(t *testing.T) {
	var pool fanout.AnswerPool
	var nilArena *fanout.Answers
	require.Nil(t, nilArena.Alloc(10), "no arena: the caller allocates")
	a := pool.New()
	require.Nil(t, a.Alloc(1<<20), "over a quarter chunk: its own buffer")
	x, y := a.Alloc(100), a.Alloc(200)
	require.Len(t, x, 100)
	require.Len(t, y, 200)
	require.Equal(t, 100, cap(x), "a carve cannot grow into the next one")
	for i := range x {
		x[i] = 1
	}
	for _, c := range y {
		require.Zero(t, c)
	}
	a.Release()
	require.Nil(t, a.Alloc(10), "released: nothing more from it")
}
