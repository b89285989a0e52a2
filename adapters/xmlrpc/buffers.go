package xmlrpc

import (
	"sync"

	"github.com/hubgw/hubgw/gateway/rpc"
)

// MaxPooledBuffer is the largest buffer Buffers keeps: one huge request
// or answer must not pin its memory in the pool for good.
const MaxPooledBuffer = 4 << 20

// Buffers pools encoding buffers for the edges (one per client request),
// one rule for all of them: buffers that grew past MaxPooledBuffer are
// dropped, not kept. The zero value is ready to use.
type Buffers struct{ p sync.Pool }

// Get returns an empty buffer.
func (b *Buffers) Get() *[]byte {
	if bp, ok := b.p.Get().(*[]byte); ok {
		*bp = (*bp)[:0]
		return bp
	}
	buf := make([]byte, 0, 64<<10)
	return &buf
}

// Put returns bp, holding buf (the buffer as it grew), to the pool.
func (b *Buffers) Put(bp *[]byte, buf []byte) {
	if cap(buf) > MaxPooledBuffer {
		return
	}
	*bp = buf[:0]
	b.p.Put(bp)
}

// SizeHint estimates the encoded size of params, so a large encoding is
// made in one buffer of about the right size: growing one by appending
// allocates several times its final size on the way (issue 12, H2). It
// counts the bytes of strings and binaries and a fixed cost per value;
// escapes can make the encoding larger, and append grows it then.
func SizeHint(params ...any) int {
	n := 0
	for _, p := range params {
		n += sizeHint(p, 0)
	}
	return n
}

func sizeHint(v any, depth int) int {
	const perValue = 48 // tags around one value
	if depth > DefaultMaxDepth {
		return perValue
	}
	switch v := v.(type) {
	case string:
		return perValue + len(v)
	case []byte:
		return perValue + (len(v)+2)/3*4
	case Raw:
		return perValue + len(v)
	case []any:
		n := perValue
		for _, e := range v {
			n += sizeHint(e, depth+1)
		}
		return n
	case rpc.Struct:
		n := perValue
		for _, m := range v {
			n += perValue + len(m.Name) + sizeHint(m.Value, depth+1)
		}
		return n
	case map[string]any:
		n := perValue
		for k, e := range v {
			n += perValue + len(k) + sizeHint(e, depth+1)
		}
		return n
	}
	return perValue
}
