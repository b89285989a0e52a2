package fanout

import "sync"

// Answers is an arena a transport reads one fan-out's answers into: a few
// large chunks instead of one buffer per server, given back whole once the
// client's answer built from them is written (Release), so the next
// fan-out reads into the same memory. Without it every fan-out grew the
// heap by all its answers again until the collector ran, and the heap
// goal doubled that: peak RSS was 5-7× the answers in flight (issue 19).
//
// Nothing may use memory from Alloc after Release: only the edge that
// writes the answer releases, and only the arenas a handler hands it
// (gateway.HoldAnswers); an arena never handed over is left to the
// garbage collector, which is always safe.
type Answers struct {
	pool     *AnswerPool
	mu       sync.Mutex
	chunks   []*[]byte
	free     []byte // the unused rest of the last chunk
	released bool
}

// AnswerPool keeps the chunks of released arenas. The zero value is ready
// to use; sync.Pool drops chunks nobody asked for over two collections,
// so an idle gateway gives the memory back.
type AnswerPool struct{ p sync.Pool }

const (
	answerChunk = 1 << 20
	// maxCarve is the largest answer taken from a chunk: a larger one
	// gets its own buffer, so a chunk never wastes more than a quarter.
	maxCarve = answerChunk / 4
)

// New returns an empty arena whose chunks come from, and go back to, p.
func (p *AnswerPool) New() *Answers { return &Answers{pool: p} }

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

// Release gives the arena's chunks back to its pool. Whatever was read
// into them must no longer be used; Alloc returns nil from now on.
func (a *Answers) Release() {
	if a == nil {
		return
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	a.released = true
	for _, cp := range a.chunks {
		a.pool.p.Put(cp)
	}
	a.chunks, a.free = nil, nil
}
