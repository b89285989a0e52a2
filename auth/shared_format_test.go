package auth

import (
	"encoding/binary"
	"testing"

	"github.com/stretchr/testify/require"
)

// A session sealed before logins were recorded (hub key, secret, keys,
// nothing after) still opens, with its keys and no logins: its calls are
// not cached until the user logs in again.
func TestCredentialsWithoutLogins(t *testing.T) {
	old := appendField(nil, []byte("123xhubkey"))
	old = appendField(old, []byte("hunter2"))
	old = binary.AppendUvarint(old, 1)
	old = appendField(appendField(old, []byte("1000010001")), []byte("456xperiph"))
	var s Session
	require.NoError(t, openCredentials(old, &s))
	require.Equal(t, "123xhubkey", s.HubKey)
	require.Equal(t, map[string]string{"1000010001": "456xperiph"}, s.Keys)
	require.Nil(t, s.Logins)

	var back Session
	in := &Session{HubKey: "k", Keys: map[string]string{"1": "a"}, Logins: map[string]string{"hub": "admin", "1": "svc"}}
	require.NoError(t, openCredentials(sealCredentials(in), &back))
	require.Equal(t, in.Logins, back.Logins)
	require.Error(t, openCredentials(sealCredentials(in)[:len(sealCredentials(in))-1], &back), "a cut record is refused")
}
