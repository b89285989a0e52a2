package catalog

import (
	"bytes"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/hubgw/hubgw/gateway/catalog/internal/derive"
)

// sharedCatalog is ../shared/uyuni-api-catalog.json seen from the project
// root: the team's copy, which source/ follows.
var sharedCatalog = filepath.Join("..", "..", "..", "shared", "uyuni-api-catalog.json")

func TestEmbeddedCopyIsCurrent(t *testing.T) {
	src, err := os.ReadFile(filepath.Join("source", "uyuni-api-catalog.json"))
	if err != nil {
		t.Fatal(err)
	}
	want, err := derive.Catalog(src)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(catalogJSON, want) {
		t.Fatal("catalog.json is stale: run `go generate ./gateway/catalog`")
	}
}

func TestSourceFollowsShared(t *testing.T) {
	shared, err := os.ReadFile(sharedCatalog)
	if os.IsNotExist(err) {
		t.Skipf("%s is absent", sharedCatalog)
	}
	if err != nil {
		t.Fatal(err)
	}
	src, err := os.ReadFile(filepath.Join("source", "uyuni-api-catalog.json"))
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(src, shared) {
		t.Fatalf("source/uyuni-api-catalog.json differs from %s: copy it, then run `go generate ./gateway/catalog`", sharedCatalog)
	}
}

func TestCounts(t *testing.T) {
	c := load(t)
	if got := len(c.Namespaces); got != 58 {
		t.Errorf("namespaces = %d, want 58", got)
	}
	n := 0
	for range c.Methods() {
		n++
	}
	if n != 839 {
		t.Errorf("methods = %d, want 839", n)
	}
}

func TestOverloads(t *testing.T) {
	c := load(t)
	tests := []struct {
		name      string
		fullName  string
		want      int
		firstType []string // reflected types of the first overload
	}{
		{"four creates", "channel.software.create", 4,
			[]string{"string", "string", "string", "string", "string", "string", "string", "struct", "boolean"}},
		{"login without session", "auth.login", 2, []string{"string", "string"}},
		{"two getDetails", "channel.software.getDetails", 2, []string{"string", "string"}},
		{"deployAllSystems date", "configchannel.deployAllSystems", 4, []string{"string", "string"}},
		{"unknown", "channel.software.nope", 0, nil},
		{"no namespace", "nope", 0, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := c.Overloads(tt.fullName)
			if len(got) != tt.want {
				t.Fatalf("Overloads(%q) = %d overloads, want %d", tt.fullName, len(got), tt.want)
			}
			if tt.want == 0 {
				return
			}
			if got[0].FullName() != tt.fullName {
				t.Errorf("FullName = %q", got[0].FullName())
			}
			var types []string
			for _, p := range got[0].Params {
				types = append(types, p.Reflect)
			}
			if !slices.Equal(types, tt.firstType) {
				t.Errorf("reflected types = %v, want %v", types, tt.firstType)
			}
		})
	}
}

func TestParamsKeepJavaFacts(t *testing.T) {
	c := load(t)
	ov := c.Overloads("configchannel.deployAllSystems")
	var sawDate bool
	for _, m := range ov {
		if m.Params[0].Name != "sessionKey" || m.Params[0].Java != "User" || m.Params[0].Reflect != "string" {
			t.Errorf("%s: session param = %+v", m.FullName(), m.Params[0])
		}
		for _, p := range m.Params {
			if p.Type == "dateTime.iso8601" {
				sawDate = true
				if p.Reflect != "date" || p.Java != "Date" {
					t.Errorf("date param = %+v", p)
				}
			}
		}
	}
	if !sawDate {
		t.Error("no dateTime.iso8601 parameter among deployAllSystems overloads")
	}
	ak := c.Overloads("activationkey.addConfigChannels")[0]
	if p := ak.Params[1]; p.Type != "array" || p.ElementType != "string" || p.Reflect != "array" {
		t.Errorf("keys param = %+v", p)
	}
	if p := ak.Params[3]; p.Java != "boolean" || p.Reflect != "boolean" {
		t.Errorf("addToTop param = %+v", p)
	}
	ns, ok := c.Namespace("channel.software")
	if !ok || ns.HandlerClass() != "ChannelSoftwareHandler" ||
		ns.Handler != "com.redhat.rhn.frontend.xmlrpc.channel.software.ChannelSoftwareHandler" {
		t.Errorf("channel.software handler = %q (%v)", ns.Handler, ok)
	}
}

func TestReturnsReflect(t *testing.T) {
	c := load(t)
	tests := []struct{ method, want string }{
		{"channel.software.create", "int"},
		{"channel.listAllChannels", "array"}, // Object[]
		{"configchannel.create", "struct"},   // ConfigChannel DTO
		{"api.getVersion", "string"},
		{"user.listAssignableRoles", "array"}, // Set<String>
	}
	for _, tt := range tests {
		if got := c.Overloads(tt.method)[0].ReturnsReflect; got != tt.want {
			t.Errorf("%s returns %q, want %q", tt.method, got, tt.want)
		}
	}
}

func TestReflect(t *testing.T) {
	tests := []struct {
		java  string
		first bool
		want  string
	}{
		{"String", false, "string"},
		{"Integer", false, "int"},
		{"int", false, "int"},
		{"Long", false, "struct"}, // Uyuni's getType has no case for Long
		{"Date", false, "date"},
		{"boolean", false, "boolean"},
		{"Map<String,Object>", false, "struct"},
		{"List<Map<String,Object>>", false, "array"},
		{"Set<String>", false, "array"},
		{"Collection<String>", false, "struct"},
		{"Object[]", false, "array"},
		{"byte[]", false, "base64"},
		{"User", true, "string"},
		{"User", false, "struct"},
		{"ChannelArch", false, "struct"},
	}
	for _, tt := range tests {
		if got := derive.Reflect(tt.java, tt.first); got != tt.want {
			t.Errorf("Reflect(%q, %v) = %q, want %q", tt.java, tt.first, got, tt.want)
		}
	}
}

func TestOverloadsWithoutIndex(t *testing.T) {
	c := load(t)
	bare := &Catalog{Namespaces: c.Namespaces}
	if got := len(bare.Overloads("channel.software.create")); got != 4 {
		t.Errorf("unindexed Overloads = %d, want 4", got)
	}
}

func load(t *testing.T) *Catalog {
	t.Helper()
	c, err := Load()
	if err != nil {
		t.Fatal(err)
	}
	return c
}
