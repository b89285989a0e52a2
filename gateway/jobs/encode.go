package jobs

import (
	"encoding/base64"
	"encoding/json"
	"strconv"
	"time"

	"github.com/hubgw/hubgw/gateway/target"
)

// The records a job writes for each of its targets, and its header with
// every target's identity, are encoded here by hand, the same bytes
// encoding/json writes for Target and header (encode_test.go compares
// them). encoding/json's reflection was a third of what recording a
// 500-server fan-out costs, and its streaming alternative
// (encoding/json/jsontext) is not in the standard library without a
// GOEXPERIMENT.

// appendTarget appends t as encoding/json marshals it.
func appendTarget(b []byte, t *Target) []byte {
	b = append(b, `{"serverId":`...)
	b = strconv.AppendInt(b, t.ServerID, 10)
	b = appendString(append(b, `,"serverName":`...), t.ServerName)
	if t.Hub {
		b = append(b, `,"hub":true`...)
	}
	b = strconv.AppendBool(append(b, `,"ok":`...), t.OK)
	b = appendString(append(b, `,"outcome":`...), t.Outcome)
	b = appendRaw(b, `,"value":`, t.Value)
	if t.ValueOmitted != "" {
		b = appendString(append(b, `,"valueOmitted":`...), t.ValueOmitted)
	}
	if t.FaultCode != 0 {
		b = strconv.AppendInt(append(b, `,"faultCode":`...), int64(t.FaultCode), 10)
	}
	if t.FaultString != "" {
		b = appendString(append(b, `,"faultString":`...), t.FaultString)
	}
	if t.Error != "" {
		b = appendString(append(b, `,"error":`...), t.Error)
	}
	b = strconv.AppendInt(append(b, `,"durationMs":`...), t.DurationMs, 10)
	b = strconv.AppendInt(append(b, `,"attempts":`...), int64(t.Attempts), 10)
	if t.Finished != nil {
		b = appendTime(append(b, `,"finished":`...), *t.Finished)
	}
	b = appendRaw(b, `,"args":`, t.Args)
	return append(b, '}')
}

// appendHeader appends h, its targets the identities of ts still
// running, as encoding/json marshals it.
func appendHeader(b []byte, h *header, ts []target.Target) []byte {
	b = appendString(append(b, `{"id":`...), h.ID)
	b = appendString(append(b, `,"method":`...), h.Method)
	b = appendString(append(b, `,"user":`...), h.User)
	b = appendRaw(b, `,"args":`, h.Args)
	b = appendString(append(b, `,"replica":`...), h.Replica)
	b = appendTime(append(b, `,"started":`...), h.Started)
	b = append(b, `,"targets":[`...)
	for i, t := range ts {
		if i > 0 {
			b = append(b, ',')
		}
		b = appendTarget(b, &Target{ServerID: t.ID, ServerName: t.String(), Hub: t.Hub, Outcome: TargetRunning})
	}
	b = append(b, ']')
	if len(h.Sealed) > 0 {
		b = append(b, `,"sealed":"`...)
		b = base64.StdEncoding.AppendEncode(b, h.Sealed)
		b = append(b, '"')
	}
	return append(b, '}')
}

// appendRaw appends an omitempty json.RawMessage member. The JSON is the
// recorder's own, compact already, which encoding/json would check and
// compact again.
func appendRaw(b []byte, name string, raw json.RawMessage) []byte {
	if len(raw) == 0 {
		return b
	}
	return append(append(b, name...), raw...)
}

// appendTime appends a time as encoding/json does (RFC 3339 with
// nanoseconds, quoted).
func appendTime(b []byte, t time.Time) []byte {
	b = append(b, '"')
	b = t.AppendFormat(b, time.RFC3339Nano)
	return append(b, '"')
}

// appendString appends s quoted as encoding/json does. Server names,
// outcomes and most messages are plain ASCII, appended as they are; any
// other string goes through encoding/json, whose escaping (HTML
// characters, U+2028, invalid UTF-8) it then keeps exactly.
func appendString(b []byte, s string) []byte {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 || c >= 0x80 || c == '"' || c == '\\' || c == '<' || c == '>' || c == '&' {
			j, _ := json.Marshal(s) // strings always marshal
			return append(b, j...)
		}
	}
	b = append(b, '"')
	b = append(b, s...)
	return append(b, '"')
}
