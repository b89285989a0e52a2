package main

import (
	"os"
	"reflect"
	"regexp"
	"testing"

	"github.com/stretchr/testify/require"
	"go.yaml.in/yaml/v3"

	"github.com/hubgw/hubgw/adapters/server"
)

// The packages' /etc/hubgw/hubgw.yaml lists every setting, commented out
// with its default: as shipped it changes nothing, and uncommented it is
// valid and complete.
func TestShippedConfigListsEverySetting(t *testing.T) {
	const shipped = "../../packaging/hubgw.yaml"
	cfg, err := load(t, []string{"--config", shipped}, nil)
	require.NoError(t, err)
	require.Equal(t, server.Defaults().CallTimeout, cfg.CallTimeout)
	require.Equal(t, server.Defaults().Listen, cfg.Listen)
	require.Empty(t, cfg.Peripherals)

	// "#key: value" and "#  key: value" are settings; "# text" is prose.
	b, err := os.ReadFile(shipped)
	require.NoError(t, err)
	uncommented := regexp.MustCompile(`(?m)^#((?:  )*[a-z][a-z0-9.-]*:(?: .*)?)$`).ReplaceAll(b, []byte("$1"))
	var doc map[string]any
	require.NoError(t, yaml.Unmarshal(uncommented, &doc), "%s", uncommented)
	require.NoError(t, unknownKeys(doc, reflect.TypeFor[server.Config]()))
	for k, typ := range keysOf(reflect.TypeFor[server.Config]()) {
		require.Contains(t, doc, k, "hubgw.yaml does not mention %s", k)
		if typ.Kind() == reflect.Map && typ.Elem().Kind() == reflect.Struct {
			for _, entry := range doc[k].(map[string]any) {
				for sub := range keysOf(typ.Elem()) {
					require.Contains(t, entry, sub, "hubgw.yaml's %s example does not mention %s", k, sub)
				}
			}
		}
	}
}
