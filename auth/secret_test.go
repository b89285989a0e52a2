package auth_test

import (
	"bytes"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/hubgw/hubgw/auth"
)

func key(b byte) []byte { return bytes.Repeat([]byte{b}, 32) }

func TestSealerRoundTrip(t *testing.T) {
	s, err := auth.NewSealer(key(1))
	require.NoError(t, err)
	sealed := s.Seal([]byte("hunter2"), []byte("session A"))
	require.NotContains(t, string(sealed), "hunter2")
	require.NotEqual(t, sealed, s.Seal([]byte("hunter2"), []byte("session A")), "a fresh nonce each time")
	plain, err := s.Open(sealed, []byte("session A"))
	require.NoError(t, err)
	require.Equal(t, "hunter2", string(plain))
}

func TestSealerRejects(t *testing.T) {
	s, err := auth.NewSealer(key(1))
	require.NoError(t, err)
	other, err := auth.NewSealer(key(2))
	require.NoError(t, err)
	sealed := s.Seal([]byte("hunter2"), []byte("session A"))

	flip := func(i int) []byte {
		b := bytes.Clone(sealed)
		b[i] ^= 0x01
		return b
	}
	tests := []struct {
		name   string
		sealer *auth.Sealer
		value  []byte
		aad    string
		want   error
	}{
		{"another key", other, sealed, "session A", auth.ErrWrongKey},
		{"moved to another session", s, sealed, "session B", auth.ErrTampered},
		{"version byte", s, flip(0), "session A", auth.ErrTampered},
		{"nonce", s, flip(6), "session A", auth.ErrTampered},
		{"ciphertext", s, flip(len(sealed) - 20), "session A", auth.ErrTampered},
		{"tag", s, flip(len(sealed) - 1), "session A", auth.ErrTampered},
		{"truncated", s, sealed[:len(sealed)-1], "session A", auth.ErrTampered},
		{"empty", s, nil, "session A", auth.ErrTampered},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := tt.sealer.Open(tt.value, []byte(tt.aad))
			require.ErrorIs(t, err, tt.want)
		})
	}
}

func TestLoadSecretKey(t *testing.T) {
	sum := sha256.Sum256([]byte("a test key"))
	raw := sum[:]
	dir := t.TempDir()
	tests := []struct {
		name    string
		content []byte
		mode    os.FileMode
		err     string
	}{
		{"raw", raw, 0o600, ""},
		{"hex with newline", []byte(hex.EncodeToString(raw) + "\n"), 0o600, ""},
		{"base64", []byte(base64.StdEncoding.EncodeToString(raw)), 0o640, ""},
		{"too short", []byte("abc"), 0o600, "want 32 bytes"},
		{"hex of 16 bytes", []byte(hex.EncodeToString(raw[:16])), 0o600, "want 32 bytes"},
		{"all zeros", make([]byte, 32), 0o600, "not random"},
		{"hex zeros", []byte(strings.Repeat("0", 64)), 0o600, "not random"},
		{"a pattern", []byte(strings.Repeat("ab", 32)), 0o600, "not random"},
		{"world-readable", raw, 0o644, "chmod 600"},
		{"world-writable", raw, 0o602, "chmod 600"},
	}
	want, err := auth.NewSealer(raw)
	require.NoError(t, err)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := filepath.Join(dir, tt.name)
			require.NoError(t, os.WriteFile(path, tt.content, 0o600))
			require.NoError(t, os.Chmod(path, tt.mode)) // whatever the umask
			s, err := auth.LoadSecretKey(path)
			if tt.err != "" {
				require.ErrorContains(t, err, tt.err)
				return
			}
			require.NoError(t, err)
			plain, err := s.Open(want.Seal([]byte("x"), nil), nil)
			require.NoError(t, err, "the same key whatever the encoding")
			require.Equal(t, "x", string(plain))
		})
	}
	_, err = auth.LoadSecretKey(filepath.Join(dir, "missing"))
	require.ErrorContains(t, err, "secret-key-file")
}
