package auth

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/hubgw/hubgw/cache"
)

// KV is what SharedStore needs of a shared store; cache.Store has it.
type KV interface {
	GetEx(ctx context.Context, key string, ttl time.Duration) ([]byte, error)
	Set(ctx context.Context, key string, value []byte, ttl time.Duration) error
	Update(ctx context.Context, key string, ttl time.Duration, fn func([]byte) ([]byte, error)) error
	Delete(ctx context.Context, keys ...string) error
}

// SharedStore keeps sessions in a store every replica sees (Redis), so a
// client can log in through one replica and call through another, and a
// restart logs no one out.
//
// A session is stored under the SHA-256 of its id, so the store's key list
// does not hand out usable session ids. The hub key, the per-peripheral
// session keys and the relay password are sealed together (AES-GCM, bound
// to the session id); user, mode and times stay readable for operators.
// Idle expiry is the key's time to live, slid by every Get in the same
// round trip; absolute expiry is checked on every read.
type SharedStore struct {
	kv   KV
	seal *Sealer
	exp  Expiry
	now  func() time.Time
	log  *slog.Logger
}

// SharedOptions tune a SharedStore.
type SharedOptions struct {
	Expiry Expiry
	Now    func() time.Time // for tests
	Logger *slog.Logger
}

// NewSharedStore stores sessions in kv, sealing credentials with seal
// (required: credentials never go to a shared store in the clear).
func NewSharedStore(kv KV, seal *Sealer, o SharedOptions) (*SharedStore, error) {
	if seal == nil {
		return nil, errors.New("a shared session store needs a secret key to seal credentials (--secret-key-file)")
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	return &SharedStore{kv: kv, seal: seal, exp: o.Expiry.withDefaults(), now: o.Now, log: o.Logger}, nil
}

// A session at rest is a line of JSON that operators can read (who, which
// mode, since when), a newline, then the sealed credentials as raw bytes.
// The credentials are a compact binary encoding (length-prefixed strings,
// written here rather than with encoding/json or gob: every call reads a
// session, and JSON of base64 of JSON made a lookup 10 times slower).
type record struct {
	User    string    `json:"user"`
	Mode    Mode      `json:"mode"`
	Created time.Time `json:"created"`
	Used    time.Time `json:"used"`
}

func appendField(b, f []byte) []byte {
	b = binary.AppendUvarint(b, uint64(len(f)))
	return append(b, f...)
}

// sealCredentials encodes: hub key, secret, then the keys and the logins,
// each a count followed by target keys and their values. (Sessions
// stored before logins were recorded end after the keys.)
func sealCredentials(s *Session) []byte {
	b := appendField(nil, []byte(s.HubKey))
	b = appendField(b, s.Secret)
	for _, m := range []map[string]string{s.Keys, s.Logins} {
		b = binary.AppendUvarint(b, uint64(len(m)))
		for k, v := range m {
			b = appendField(appendField(b, []byte(k)), []byte(v))
		}
	}
	return b
}

var errCredentials = errors.New("stored credentials unreadable")

func openCredentials(b []byte, s *Session) error {
	field := func() ([]byte, error) {
		n, w := binary.Uvarint(b)
		if w <= 0 || n > uint64(len(b)-w) {
			return nil, errCredentials
		}
		f := b[w : w+int(n)]
		b = b[w+int(n):]
		return f, nil
	}
	hub, err := field()
	if err != nil {
		return err
	}
	secret, err := field()
	if err != nil {
		return err
	}
	s.HubKey = string(hub)
	if len(secret) > 0 {
		s.Secret = append([]byte(nil), secret...)
	}
	pairs := func() (map[string]string, error) {
		n, w := binary.Uvarint(b)
		if w <= 0 || n > uint64(len(b)) {
			return nil, errCredentials
		}
		b = b[w:]
		m := make(map[string]string, n)
		for range n {
			k, err := field()
			if err != nil {
				return nil, err
			}
			v, err := field()
			if err != nil {
				return nil, err
			}
			m[string(k)] = string(v)
		}
		return m, nil
	}
	if s.Keys, err = pairs(); err != nil {
		return err
	}
	if len(b) > 0 {
		s.Logins, err = pairs()
	}
	return err
}

func storageKey(id string) string {
	sum := sha256.Sum256([]byte(id))
	return "session:" + hex.EncodeToString(sum[:])
}

func aad(id string) []byte { return []byte("hubgw session " + id) }

func (st *SharedStore) encode(s *Session) ([]byte, error) {
	b, err := json.Marshal(record{User: s.User, Mode: s.Mode, Created: s.Created, Used: s.Used})
	if err != nil {
		return nil, err
	}
	b = append(b, '\n')
	return append(b, st.seal.Seal(sealCredentials(s), aad(s.ID))...), nil
}

// decode opens a stored session; one that cannot be opened (another key,
// altered) or has passed its absolute expiry is no session at all.
func (st *SharedStore) decode(ctx context.Context, id string, b []byte) (*Session, error) {
	var r record
	meta, sealed, ok := bytes.Cut(b, []byte{'\n'})
	if !ok {
		return nil, fmt.Errorf("%w: stored session unreadable", ErrNoSession)
	}
	if err := json.Unmarshal(meta, &r); err != nil {
		st.log.WarnContext(ctx, "stored session unreadable", "err", err)
		return nil, fmt.Errorf("%w: stored session unreadable: %w", ErrNoSession, err)
	}
	plain, err := st.seal.Open(sealed, aad(id))
	if err != nil {
		st.log.WarnContext(ctx, "stored session cannot be opened", "user", r.User, "err", err)
		return nil, fmt.Errorf("%w: %w", ErrNoSession, err)
	}
	s := &Session{ID: id, User: r.User, Mode: r.Mode, Created: r.Created, Used: r.Used}
	if err := openCredentials(plain, s); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrNoSession, err)
	}
	if st.now().Sub(s.Created) >= st.exp.Absolute {
		return nil, ErrNoSession
	}
	return s, nil
}

func (st *SharedStore) Create(ctx context.Context, s *Session) error {
	c := s.Clone()
	now := st.now()
	if c.Created.IsZero() {
		c.Created = now
	}
	if c.Used.IsZero() {
		c.Used = now
	}
	b, err := st.encode(c)
	if err != nil {
		return err
	}
	return st.kv.Set(ctx, storageKey(c.ID), b, st.exp.Idle)
}

func (st *SharedStore) Get(ctx context.Context, id string) (*Session, error) {
	b, err := st.kv.GetEx(ctx, storageKey(id), st.exp.Idle)
	if errors.Is(err, cache.ErrNotFound) {
		return nil, ErrNoSession
	}
	if err != nil {
		return nil, err
	}
	s, err := st.decode(ctx, id, b)
	if err != nil {
		if errors.Is(err, ErrNoSession) {
			_ = st.kv.Delete(ctx, storageKey(id))
		}
		return nil, err
	}
	s.Used = st.now()
	return s, nil
}

func (st *SharedStore) Update(ctx context.Context, id string, fn func(*Session) error) error {
	err := st.kv.Update(ctx, storageKey(id), st.exp.Idle, func(old []byte) ([]byte, error) {
		s, err := st.decode(ctx, id, old)
		if err != nil {
			return nil, err
		}
		if err := fn(s); err != nil {
			return nil, err
		}
		s.ID = id
		s.Used = st.now()
		return st.encode(s)
	})
	if errors.Is(err, cache.ErrNotFound) {
		return ErrNoSession
	}
	return err
}

func (st *SharedStore) Delete(ctx context.Context, id string) error {
	return st.kv.Delete(ctx, storageKey(id))
}
