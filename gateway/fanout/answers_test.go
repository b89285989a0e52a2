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
	a := pool.New(500)
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

func TestAnswersSingle(t *testing.T) {
	var pool fanout.AnswerPool
	a := pool.New(1)
	x := a.Alloc(5000)
	require.Len(t, x, 5000)
	require.Equal(t, 5000, cap(x), "a buffer cannot grow past the answer")
	require.Nil(t, a.Alloc(1<<20), "over a quarter chunk: its own buffer")
	y := a.Alloc(10) // a retry's second answer
	require.Len(t, y, 10)
	x[0], y[0] = 1, 2
	require.Equal(t, byte(1), x[0], "a retry's answer is a buffer of its own")
	a.Release()
	require.Nil(t, a.Alloc(10), "released: nothing more from it")
	b := pool.New(1)
	for _, n := range []int{1, 4096, 4097, 1 << 18} {
		require.Len(t, b.Alloc(n), n, "size %d", n)
	}
	b.Release()
}
