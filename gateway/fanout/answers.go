package fanout

import (
	"math/bits"
	"sync"
)

// Answers is an arena a transport reads one fan-out's answers into: a few
// large chunks instead of one buffer per server (for a single server, one
// buffer of its size class), given back whole once the client's answer
// built from them is written (Release), so the next fan-out reads into
// the same memory. Without it every fan-out grew the
// heap by all its answers again until the collector ran, and the heap
// goal doubled that: peak RSS was 5-7× the answers in flight (issue 19).
//
// Nothing may use memory from Alloc after Release: only the edge that
// writes the answer releases, and only the arenas a handler hands it
// (gateway.HoldAnswers); an arena never handed over is left to the
// garbage collector, which is always safe.
type Answers struct {
	pool     *AnswerPool
	single   bool // one server's answer: a buffer of its size class, not a chunk
	mu       sync.Mutex
	chunks   []*[]byte // chunks, or the single answer's buffer
	free     []byte    // the unused rest of the last chunk
	released bool
}

// AnswerPool keeps the chunks of released arenas, and the buffers of
// single answers by size class. The zero value is ready to use; sync.Pool
// drops memory nobody asked for over two collections, so an idle gateway
// gives it back.
type AnswerPool struct {
	p     sync.Pool
	sized [sizeClasses]sync.Pool
}

const (
	answerChunk = 1 << 20
	// maxCarve is the largest answer taken from a chunk: a larger one
	// gets its own buffer, so a chunk never wastes more than a quarter.
	maxCarve = answerChunk / 4
	// A single answer's buffer is a power of two from 1<<minClassShift
	// up to maxCarve: at most twice its size, and a unicast at
	// concurrency 32 reuses 32 buffers instead of allocating (and
	// zeroing) one per call, which was a quarter of the gateway's CPU in
	// allocation and collection (issue 19, make bench's unicast).
	minClassShift = 12
	sizeClasses   = 19 - minClassShift // 4 KiB … 256 KiB (maxCarve)
)

// New returns an empty arena for the answers of servers servers, whose
// memory comes from, and goes back to, p. One server's answer takes a
// buffer of its size class: a chunk would hold 1 MiB for a few KiB.
func (p *AnswerPool) New(servers int) *Answers { return &Answers{pool: p, single: servers == 1} }

// Alloc returns n bytes to read an answer into, their contents undefined,
// or nil when the caller should allocate them itself: a nil arena, n over
// maxCarve, or an arena already released.
func (a *Answers) Alloc(n int) []byte {
	if a == nil || n <= 0 || n > maxCarve {
		return nil
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.released {
		return nil
	}
	if a.single {
		c := sizeClass(n)
		bp, ok := a.pool.sized[c].Get().(*[]byte)
		if !ok {
			b := make([]byte, 1<<(minClassShift+c))
			bp = &b
		}
		a.chunks = append(a.chunks, bp) // a retry reads a second answer
		return (*bp)[:n:n]
	}
	if len(a.free) < n {
		cp, ok := a.pool.p.Get().(*[]byte)
		if !ok {
			b := make([]byte, answerChunk)
			cp = &b
		}
		a.chunks = append(a.chunks, cp)
		a.free = *cp
	}
	b := a.free[:n:n]
	a.free = a.free[n:]
	return b
}

// sizeClass is the smallest class whose buffers hold n (≤ maxCarve) bytes.
func sizeClass(n int) int {
	return max(bits.Len(uint(n-1)), minClassShift) - minClassShift
}

// Release gives the arena's memory back to its pool. Whatever was read
// into it must no longer be used; Alloc returns nil from now on.
func (a *Answers) Release() {
	if a == nil {
		return
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	a.released = true
	for _, cp := range a.chunks {
		if a.single {
			a.pool.sized[sizeClass(cap(*cp))].Put(cp)
		} else {
			a.pool.p.Put(cp)
		}
	}
	a.chunks, a.free = nil, nil
}
