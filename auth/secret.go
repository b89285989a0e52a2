package auth

import (
	"bytes"
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
)

// Sealer encrypts credentials at rest with AES-256-GCM: relay passwords
// and upstream session keys are stored sealed whenever they leave the
// process (the shared store), so reading Redis does not yield logins.
//
// A sealed value is: version byte (1), the key's 4-byte fingerprint, a
// 12-byte random nonce, then the ciphertext and tag. The fingerprint lets
// a gateway started with another key say so, instead of "tampered".
type Sealer struct {
	aead cipher.AEAD
	fp   [4]byte
}

const sealVersion = 1

var (
	// ErrWrongKey: the value was sealed with another secret key.
	ErrWrongKey = errors.New("sealed with a different secret key (was --secret-key-file changed?)")
	// ErrTampered: the value does not authenticate: it was altered or cut.
	ErrTampered = errors.New("sealed value does not authenticate (altered or truncated)")
)

// NewSealer takes a 32-byte key.
func NewSealer(key []byte) (*Sealer, error) {
	if len(key) != 32 {
		return nil, fmt.Errorf("secret key: %d bytes, want 32 (AES-256)", len(key))
	}
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, err
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		return nil, err
	}
	s := &Sealer{aead: aead}
	sum := sha256.Sum256(append([]byte("hubgw secret key fingerprint\x00"), key...))
	copy(s.fp[:], sum[:])
	return s, nil
}

// LoadSecretKey reads a key file: 32 raw bytes, or 64 hex digits, or the
// base64 of 32 bytes (surrounding white space ignored). Generate one with
// `openssl rand -hex 32 > hubgw.key` (or `head -c 32 /dev/urandom`).
//
// The file must not be readable or writable by every user (chmod 600, or
// 640 for a group), and the key must look random: all zeros, or a few
// byte values repeated, is a placeholder, not a secret.
func LoadSecretKey(path string) (*Sealer, error) {
	if err := CheckPrivate(path, "secret-key-file"); err != nil {
		return nil, err
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("secret-key-file: %w", err)
	}
	key, err := decodeKey(b)
	if err != nil {
		return nil, fmt.Errorf("secret-key-file %s: %w", path, err)
	}
	if weakKey(key) {
		return nil, fmt.Errorf("secret-key-file %s: the key is not random (all zeros, or a few byte values repeated); generate one with `openssl rand -hex 32`", path)
	}
	return NewSealer(key)
}

// CheckPrivate refuses a secret file (a key) that every user on the
// machine may read or change: it would make anyone the gateway. setting
// names the configuration key in the error. One rule for every secret
// file: the session key, client certificates' keys.
func CheckPrivate(path, setting string) error {
	fi, err := os.Stat(path)
	if err != nil {
		return fmt.Errorf("%s: %w", setting, err)
	}
	if perm := fi.Mode().Perm(); perm&0o007 != 0 {
		return fmt.Errorf("%s %s: mode %04o lets every user on the machine read or change it; chmod 600 it (or 640 for a group)", setting, path, perm)
	}
	return nil
}

// weakKey: 32 random bytes take fewer than 8 distinct values with
// negligible probability (about 2^-60); a placeholder always does.
func weakKey(k []byte) bool {
	var seen [256]bool
	n := 0
	for _, c := range k {
		if !seen[c] {
			seen[c] = true
			n++
		}
	}
	return n < 8
}

func decodeKey(b []byte) ([]byte, error) {
	// 32 bytes of text (say, `openssl rand -hex 16` without its newline)
	// are a weaker key in disguise, not raw key material.
	if len(b) == 32 && !printable(b) {
		return b, nil
	}
	t := bytes.TrimSpace(b)
	if len(t) == 64 {
		if k, err := hex.DecodeString(string(t)); err == nil {
			return k, nil
		}
	}
	for _, enc := range []*base64.Encoding{base64.StdEncoding, base64.RawStdEncoding, base64.URLEncoding, base64.RawURLEncoding} {
		if k, err := enc.DecodeString(string(t)); err == nil && len(k) == 32 {
			return k, nil
		}
	}
	return nil, errors.New("want 32 bytes: raw, 64 hex digits or base64 (e.g. `openssl rand -hex 32`)")
}

func printable(b []byte) bool {
	for _, c := range b {
		if c < 0x20 || c > 0x7e {
			return false
		}
	}
	return true
}

// Seal encrypts plain; aad (not secret, not stored) binds the value to its
// context, e.g. the session it belongs to, so it cannot be moved to another.
func (s *Sealer) Seal(plain, aad []byte) []byte {
	ns := s.aead.NonceSize()
	out := make([]byte, 1+len(s.fp)+ns, 1+len(s.fp)+ns+len(plain)+s.aead.Overhead())
	out[0] = sealVersion
	copy(out[1:], s.fp[:])
	nonce := out[1+len(s.fp):]
	_, _ = rand.Read(nonce) // crypto/rand.Read never fails on supported platforms
	return s.aead.Seal(out, nonce, plain, aad)
}

// Open decrypts what Seal produced with the same aad: ErrWrongKey when
// another key sealed it, ErrTampered when it does not authenticate.
func (s *Sealer) Open(sealed, aad []byte) ([]byte, error) {
	head := 1 + len(s.fp) + s.aead.NonceSize()
	if len(sealed) < head+s.aead.Overhead() || sealed[0] != sealVersion {
		return nil, ErrTampered
	}
	if !bytes.Equal(sealed[1:1+len(s.fp)], s.fp[:]) {
		return nil, ErrWrongKey
	}
	plain, err := s.aead.Open(nil, sealed[1+len(s.fp):head], sealed[head:], aad)
	if err != nil {
		return nil, ErrTampered
	}
	return plain, nil
}
