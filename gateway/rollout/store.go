package rollout

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/hubgw/hubgw/cache"
)

// A record is kept as a hash: the header ("h": everything but the
// servers), one field per server ("s:<index>"), the owner's epoch and a
// version ("epoch", "v", decimal). A server's change writes its field
// and the version, under a guard on the epoch and the version (HSetIf),
// so its cost does not grow with the rollout, and a stale owner (an old
// epoch) or a write that raced another (an old version) changes nothing.
// The version orders every write, as the single JSON value used to.
const (
	fieldHeader  = "h"
	fieldEpoch   = "epoch"
	fieldVersion = "v"
)

func serverField(i int) string { return "s:" + strconv.Itoa(i) }

// recordKey is a new key, not the single value's ("rollout:{id}"): a
// record written by an older gateway is a string, unreadable as a hash.
func recordKey(id string) string { return "rollout:{" + id + "}:rec" }

// fields encodes every field of r.
func (r *Record) fields() (map[string][]byte, error) {
	h := *r
	h.Servers = nil
	hb, err := json.Marshal(&h)
	if err != nil {
		return nil, err
	}
	out := make(map[string][]byte, len(r.Servers)+3)
	out[fieldHeader] = hb
	out[fieldEpoch] = []byte(strconv.FormatInt(r.Epoch, 10))
	out[fieldVersion] = []byte(strconv.FormatInt(r.version, 10))
	for i := range r.Servers {
		b, err := json.Marshal(&r.Servers[i])
		if err != nil {
			return nil, err
		}
		out[serverField(i)] = b
	}
	return out, nil
}

// decodeRecord reads a record's hash.
func decodeRecord(id string, h map[string][]byte) (*Record, error) {
	var r Record
	if err := json.Unmarshal(h[fieldHeader], &r); err != nil {
		return nil, fmt.Errorf("rollout %s: header: %w", id, err)
	}
	var err error
	if r.Epoch, err = strconv.ParseInt(string(h[fieldEpoch]), 10, 64); err != nil {
		return nil, fmt.Errorf("rollout %s: epoch: %w", id, err)
	}
	if r.version, err = strconv.ParseInt(string(h[fieldVersion]), 10, 64); err != nil {
		return nil, fmt.Errorf("rollout %s: version: %w", id, err)
	}
	n := 0
	for k := range h {
		if strings.HasPrefix(k, "s:") {
			n++
		}
	}
	r.Servers = make([]Server, n)
	for i := range r.Servers {
		b, ok := h[serverField(i)]
		if !ok {
			return nil, fmt.Errorf("rollout %s: server %d of %d is missing", id, i, n)
		}
		if err := json.Unmarshal(b, &r.Servers[i]); err != nil {
			return nil, fmt.Errorf("rollout %s: server %d: %w", id, i, err)
		}
		// A server's change writes its field only: the record was
		// updated when its latest server was.
		for _, at := range []*time.Time{r.Servers[i].Started, r.Servers[i].Finished} {
			if at != nil && at.After(r.Updated) {
				r.Updated = *at
			}
		}
	}
	r.raw = h
	return &r, nil
}

// Get reads a rollout.
func (c *Controller) Get(ctx context.Context, id string) (*Record, error) {
	h, err := c.o.Store.HGetAll(ctx, recordKey(id))
	if errors.Is(err, cache.ErrNotFound) {
		return nil, ErrNotFound
	}
	if err != nil {
		return nil, err
	}
	return decodeRecord(id, h)
}

// write stores the fields of r that differ from what was read (r.raw)
// as the next version, if the record is still at r's epoch and version.
// It reports false when another write came first.
func (c *Controller) write(ctx context.Context, r *Record, fields map[string][]byte) (bool, error) {
	guards := map[string][]byte{fieldEpoch: r.raw[fieldEpoch], fieldVersion: r.raw[fieldVersion]}
	set := map[string][]byte{}
	for k, v := range fields {
		if string(r.raw[k]) != string(v) {
			set[k] = v
		}
	}
	next := []byte(strconv.FormatInt(r.version+1, 10))
	set[fieldVersion] = next
	ok, err := c.o.Store.HSetIf(ctx, recordKey(r.ID), guards, set)
	if !ok || err != nil {
		return false, err
	}
	for k, v := range set { // r is its writer's own copy
		r.raw[k] = v
	}
	r.version++
	return true, nil
}
