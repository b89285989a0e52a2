package xmlrpc

import (
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/hubgw/hubgw/gateway/rpc"
)

// respDoc wraps one <value> element in a methodResponse as Uyuni sends it.
func respDoc(value string) []byte {
	return []byte(`<?xml version="1.0" encoding="UTF-8"?>` +
		`<methodResponse><params><param>` + value + `</param></params></methodResponse>`)
}

// callDoc wraps <value> elements in a methodCall.
func callDoc(method string, values ...string) []byte {
	var b strings.Builder
	b.WriteString(`<?xml version="1.0"?><methodCall><methodName>` + method + `</methodName><params>`)
	for _, v := range values {
		b.WriteString("<param>" + v + "</param>")
	}
	b.WriteString("</params></methodCall>")
	return []byte(b.String())
}

// utc is a shorthand for the wall clock times the decoder returns.
func utc(y int, mo time.Month, d, h, mi, s int) time.Time {
	return time.Date(y, mo, d, h, mi, s, 0, time.UTC)
}

// canon turns a decoded value into a form reflect.DeepEqual compares
// meaningfully. time.Time is compared by its text (Locations made by
// time.Parse differ by pointer). With lossy set it also applies the
// normalisations a re-encode documents:
//   - dates keep their wall clock to the second and lose zone and fraction
//     (Uyuni's yyyyMMddTHH:mm:ss has neither);
//   - struct members whose value is nil are left out (Uyuni never sends null).
//
// Everything else survives a re-encode exactly: untyped strings become
// <string>, any integer width becomes <i4> or <i8>, booleans become 1/0,
// doubles lose only their spelling, and <value/> is the empty string.
func canon(v any, lossy bool) any {
	switch x := v.(type) {
	case time.Time:
		if lossy {
			return "date:" + x.Format(DateTimeLayout)
		}
		return "date:" + x.Format(time.RFC3339Nano)
	case rpc.Struct:
		out := []any{"struct"}
		for _, m := range x {
			if lossy && m.Value == nil {
				continue
			}
			out = append(out, m.Name, canon(m.Value, lossy))
		}
		return out
	case []any:
		out := []any{"array"}
		for _, e := range x {
			out = append(out, canon(e, lossy))
		}
		return out
	case []byte:
		return fmt.Sprintf("base64:%x", x)
	case Raw:
		return "raw:" + string(x)
	}
	return v
}

// requireSameValue asserts two decoded values are equal (see canon).
func requireSameValue(t testing.TB, want, got any, lossy bool, msgAndArgs ...any) {
	t.Helper()
	require.Equal(t, canon(want, lossy), canon(got, lossy), msgAndArgs...)
}

// requireDecodeError asserts err is one of the decoder's documented errors.
func requireDecodeError(t testing.TB, err error) {
	t.Helper()
	require.Error(t, err)
	var se *SyntaxError
	if errors.As(err, &se) {
		require.NotEmpty(t, se.Msg)
		return
	}
	require.ErrorIs(t, err, ErrTooLarge)
}
