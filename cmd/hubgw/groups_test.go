package main

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestGroupsFromYAMLEnvAndFlags(t *testing.T) {
	yamlFile := filepath.Join(t.TempDir(), "hubgw.yaml")
	require.NoError(t, os.WriteFile(yamlFile, []byte(`
groups:
  europe: [peripheral-1, peripheral-2]
  asia: [peripheral-3]
`), 0o600))
	for _, tc := range []struct {
		name string
		args []string
		env  []string
		want map[string][]string
	}{
		{"none", nil, nil, map[string][]string{}},
		{"yaml", []string{"--config", yamlFile}, nil, map[string][]string{"europe": {"peripheral-1", "peripheral-2"}, "asia": {"peripheral-3"}}},
		{"env", nil, []string{"HUBGW_GROUPS=europe=peripheral-1, peripheral-2;asia=3"}, map[string][]string{"europe": {"peripheral-1", "peripheral-2"}, "asia": {"3"}}},
		{"flags", []string{"--groups", "europe=peripheral-1,peripheral-2", "--groups", "asia=peripheral-3"}, nil, map[string][]string{"europe": {"peripheral-1", "peripheral-2"}, "asia": {"peripheral-3"}}},
		{"env adds to yaml, flags replace a group", []string{"--config", yamlFile, "--groups", "asia=peripheral-4"}, []string{"HUBGW_GROUPS=dbs=peripheral-5"},
			map[string][]string{"europe": {"peripheral-1", "peripheral-2"}, "asia": {"peripheral-4"}, "dbs": {"peripheral-5"}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg, err := load(t, tc.args, tc.env)
			require.NoError(t, err)
			if len(tc.want) == 0 {
				require.Empty(t, cfg.Groups)
				return
			}
			require.Equal(t, tc.want, cfg.Groups)
		})
	}
}

func TestBadGroupsAreClear(t *testing.T) {
	for _, tc := range []struct {
		name, entry, want string
	}{
		{"no members list", "europe", `"europe" is not NAME=MEMBER,MEMBER`},
		{"reserved name", "all=peripheral-1", `group "all"`},
		{"empty group", "europe=", `group "europe": a group needs members`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := load(t, []string{"--groups", tc.entry}, nil)
			require.ErrorContains(t, err, tc.want)
		})
	}
}
