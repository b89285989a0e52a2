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
		{"a numeric password is not a port", b64("all:1234"), "all", true, false},
		{"nor after a bare name", b64("peripheral-1:8443"), "peripheral-1", true, false},
		{"nor after a list ending in a group", b64("p1.example.com,web:8443"), "p1.example.com,web", true, false},
		{"a list of host:port", b64("10.0.0.7:8443,10.0.0.8:8443"), "10.0.0.7:8443,10.0.0.8:8443", true, false},
		{"an FQDN keeps its port", b64("p1.example.com:8443"), "p1.example.com:8443", true, false},
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
