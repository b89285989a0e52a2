package jobs

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"

	"github.com/hubgw/hubgw/gateway/rpc"
)

// Value turns recorded JSON back into package rpc's values, for edges that
// answer in XML-RPC: objects become rpc.Struct in their recorded order,
// integral numbers int64, other numbers float64. Dates and base64 come back
// as the strings they were recorded as; null becomes nil.
func Value(raw json.RawMessage) (any, error) {
	if len(raw) == 0 {
		return nil, nil
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	v, err := value(dec)
	if err != nil {
		return nil, fmt.Errorf("recorded value: %w", err)
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, fmt.Errorf("recorded value: data after the value")
	}
	return v, nil
}

// value reads one value with the token stream, since encoding/json's maps
// would lose the order of struct members.
func value(dec *json.Decoder) (any, error) {
	tok, err := dec.Token()
	if err != nil {
		return nil, err
	}
	switch t := tok.(type) {
	case json.Delim:
		switch t {
		case '{':
			s := rpc.Struct{}
			for dec.More() {
				k, err := dec.Token()
				if err != nil {
					return nil, err
				}
				v, err := value(dec)
				if err != nil {
					return nil, err
				}
				s = append(s, rpc.Member{Name: k.(string), Value: v})
			}
			_, err := dec.Token() // '}'
			return s, err
		case '[':
			a := []any{}
			for dec.More() {
				v, err := value(dec)
				if err != nil {
					return nil, err
				}
				a = append(a, v)
			}
			_, err := dec.Token() // ']'
			return a, err
		}
		return nil, fmt.Errorf("unexpected %v", t)
	case json.Number:
		if i, err := t.Int64(); err == nil {
			return i, nil
		}
		return t.Float64()
	}
	return tok, nil // string, bool, nil
}
