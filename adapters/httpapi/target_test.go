package httpapi

import (
	"encoding/base64"
	"testing"
)

func TestBasicTarget(t *testing.T) {
	b64 := func(s string) string { return "Basic " + base64.StdEncoding.EncodeToString([]byte(s)) }
	for _, tc := range []struct {
		name, header, want string
		ok, fault          bool
	}{
		{"spacecmd -s peripheral-1@gw", b64("peripheral-1"), "peripheral-1", true, false},
		{"a list", b64("peripheral-1,peripheral-2"), "peripheral-1,peripheral-2", true, false},
		{"host:port stays whole", b64("10.0.0.7:8443"), "10.0.0.7:8443", true, false},
		{"a password is dropped", b64("all:s3cret"), "all", true, false},
		{"unpadded", "Basic " + base64.RawStdEncoding.EncodeToString([]byte("hub")), "hub", true, false},
		{"no header", "", "", false, false},
		{"another scheme", "Bearer abc", "", false, false},
		{"empty user", b64(":x"), "", false, false},
		{"not base64", "Basic !!!", "", false, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, ok, f := basicTarget(tc.header)
			if (f != nil) != tc.fault || ok != tc.ok || got != tc.want {
				t.Fatalf("basicTarget(%q) = %q, %v, %v; want %q, %v, fault %v", tc.header, got, ok, f, tc.want, tc.ok, tc.fault)
			}
		})
	}
}
