package rest

import (
	"net/http"
	"strconv"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/hubgw/hubgw/adapters/xmlrpc"
	"github.com/hubgw/hubgw/gateway"
	"github.com/hubgw/hubgw/gateway/fanout"
)

// flushAt is when a response being built is written out: a fan-out's
// answer streams to the client in pieces of about this size instead of
// being held whole.
const flushAt = 64 << 10

// jsonWriter builds a JSON answer in a pooled buffer and streams it.
type jsonWriter struct {
	c       echo.Context
	h       *Handler
	bp      *[]byte
	buf     []byte
	status  int
	ctype   string
	started bool
	err     error
}

func (h *Handler) writer(c echo.Context, status int, ctype string) *jsonWriter {
	bp := h.bufs.Get()
	return &jsonWriter{c: c, h: h, bp: bp, buf: (*bp)[:0], status: status, ctype: ctype}
}

func (w *jsonWriter) start() {
	if w.started {
		return
	}
	w.started = true
	w.c.Response().Header().Set(echo.HeaderContentType, w.ctype)
	w.c.Response().WriteHeader(w.status)
}

// maybeFlush writes the buffer out once it is big.
func (w *jsonWriter) maybeFlush() {
	if len(w.buf) < flushAt || w.err != nil {
		return
	}
	w.start()
	_, w.err = w.c.Response().Write(w.buf)
	w.buf = w.buf[:0]
}

// close writes what is left (with a Content-Length when it was all held)
// and returns the buffer to the pool.
func (w *jsonWriter) close() error {
	defer func() {
		w.h.bufs.Put(w.bp, w.buf)
	}()
	if w.err != nil {
		return w.err
	}
	if !w.started {
		w.c.Response().Header().Set(echo.HeaderContentLength, strconv.Itoa(len(w.buf)))
	}
	w.start()
	_, err := w.c.Response().Write(w.buf)
	return err
}

// appendValue writes a server's value as JSON, dates in its zone.
func appendValue(dst []byte, v any, loc *time.Location) ([]byte, error) {
	o := xmlrpc.JSONOptions{Location: loc}
	if raw, ok := v.(xmlrpc.Raw); ok {
		return raw.AppendJSON(dst, o)
	}
	return xmlrpc.AppendValueJSON(dst, v, o)
}

// appendResult writes one TargetResult object and says whether it is ok.
func (h *Handler) appendResult(dst []byte, r fanout.Result) ([]byte, bool) {
	start := len(dst)
	dst = append(dst, `{"serverId":`...)
	dst = strconv.AppendInt(dst, r.Target.ID, 10)
	dst = append(dst, `,"serverName":`...)
	dst = xmlrpc.AppendJSONString(dst, r.Target.String())
	if r.OK() {
		dst = append(dst, `,"ok":true,"outcome":"ok","value":`...)
		var err error
		if dst, err = appendValue(dst, r.Value, h.cfg.Zone(r.Target)); err != nil {
			// The value passed the decoder, so this is a gateway bug;
			// the client gets a failed result rather than broken JSON.
			r.Value, r.Err = nil, err
			return h.appendResult(dst[:start], r)
		}
	} else {
		f := gateway.Fault(r)
		dst = append(dst, `,"ok":false,"outcome":`...)
		dst = xmlrpc.AppendJSONString(dst, fanout.Kind(r))
		dst = append(dst, `,"faultCode":`...)
		dst = strconv.AppendInt(dst, int64(f.Code), 10)
		dst = append(dst, `,"faultString":`...)
		dst = xmlrpc.AppendJSONString(dst, f.String)
		if r.Err != nil {
			dst = append(dst, `,"error":`...)
			dst = xmlrpc.AppendJSONString(dst, r.Err.Error())
		}
	}
	dst = append(dst, `,"durationMs":`...)
	dst = strconv.AppendInt(dst, r.Duration.Milliseconds(), 10)
	dst = append(dst, `,"attempts":`...)
	dst = strconv.AppendInt(dst, int64(r.Attempts), 10)
	return append(dst, '}'), r.OK()
}

// appendFanout writes the members of a FanoutResult, without braces, so
// callers can add their own; it streams as it goes. complete comes last:
// a value that fails to transcode (a gateway bug) turns into a failed
// result on the way.
func (w *jsonWriter) appendFanout(out gateway.Outcome) {
	if out.JobID != "" {
		w.buf = append(w.buf, `"jobId":`...)
		w.buf = xmlrpc.AppendJSONString(w.buf, out.JobID)
		w.buf = append(w.buf, ',')
	}
	w.buf = append(w.buf, `"results":[`...)
	complete := true
	for i, r := range out.Results {
		if i > 0 {
			w.buf = append(w.buf, ',')
		}
		var ok bool
		w.buf, ok = w.h.appendResult(w.buf, r)
		complete = complete && ok
		w.maybeFlush()
	}
	w.buf = append(w.buf, `],"complete":`...)
	w.buf = strconv.AppendBool(w.buf, complete)
}

// writeFanout answers with a FanoutResult.
func (h *Handler) writeFanout(c echo.Context, out gateway.Outcome) error {
	w := h.writer(c, http.StatusOK, echo.MIMEApplicationJSON)
	w.buf = append(w.buf, '{')
	w.appendFanout(out)
	w.buf = append(w.buf, '}')
	return w.close()
}
