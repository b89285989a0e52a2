package buildinfo

import (
	"runtime/debug"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestFromBuild(t *testing.T) {
	vcs := &debug.BuildInfo{GoVersion: "go1.26.8", Main: debug.Module{Version: "(devel)"}, Settings: []debug.BuildSetting{
		{Key: "vcs.revision", Value: "4a12de8"}, {Key: "vcs.time", Value: "2026-12-01T21:00:00Z"}, {Key: "vcs.modified", Value: "true"},
	}}
	for _, tc := range []struct {
		name                string
		bi                  *debug.BuildInfo
		ldVersion, ldCommit string
		ldDate              string
		want                Info
	}{
		{"nothing recorded", nil, "", "", "", Info{Version: "devel", Commit: "unknown", Date: "unknown"}},
		{"a git checkout", vcs, "", "", "", Info{Version: "devel", Commit: "4a12de8+dirty", Date: "2026-12-01T21:00:00Z", GoVersion: "go1.26.8"}},
		{"go install module@version", &debug.BuildInfo{GoVersion: "go1.26.8", Main: debug.Module{Version: "v1.2.3"}}, "", "", "", Info{Version: "v1.2.3", Commit: "unknown", Date: "unknown", GoVersion: "go1.26.8"}},
		{"ldflags win", vcs, "v2.0.0", "abc", "2027-01-01T00:00:00Z", Info{Version: "v2.0.0", Commit: "abc", Date: "2027-01-01T00:00:00Z", GoVersion: "go1.26.8"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := fromBuild(tc.bi, tc.ldVersion, tc.ldCommit, tc.ldDate)
			if tc.want.GoVersion == "" {
				tc.want.GoVersion = got.GoVersion // runtime.Version()
			}
			require.Equal(t, tc.want, got)
		})
	}
}
