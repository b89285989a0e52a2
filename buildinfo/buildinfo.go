// Package buildinfo says which hubgw this is: module version, commit, build
// date and Go version, for `hubgw version` and the hubgw_build_info metric.
package buildinfo

import (
	"fmt"
	"runtime"
	"runtime/debug"
)

// Set with -ldflags "-X github.com/hubgw/hubgw/buildinfo.version=..." (make
// build and make package do). They are package variables because -X can set
// nothing else; a binary built from a git checkout with plain `go build`
// needs none of them: debug.ReadBuildInfo has the commit and its date, and
// `go install module@version` has the version.
var (
	version string
	commit  string
	date    string
)

// Info describes the running binary.
type Info struct {
	Version   string // module version (v1.2.3), or "devel"
	Commit    string // VCS revision, "+dirty" when the tree had changes; "unknown" when not recorded
	Date      string // commit or build date, RFC 3339; "unknown" when not recorded
	GoVersion string
}

// Read returns the running binary's Info: ldflags first, then what the Go
// toolchain recorded.
func Read() Info {
	bi, _ := debug.ReadBuildInfo()
	return fromBuild(bi, version, commit, date)
}

func fromBuild(bi *debug.BuildInfo, version, commit, date string) Info {
	i := Info{GoVersion: runtime.Version()}
	var vcsRev, vcsTime string
	dirty := false
	if bi != nil {
		i.GoVersion = bi.GoVersion
		if v := bi.Main.Version; v != "" && v != "(devel)" {
			i.Version = v
		}
		for _, s := range bi.Settings {
			switch s.Key {
			case "vcs.revision":
				vcsRev = s.Value
			case "vcs.time":
				vcsTime = s.Value
			case "vcs.modified":
				dirty = s.Value == "true"
			}
		}
	}
	if vcsRev != "" && dirty {
		vcsRev += "+dirty"
	}
	i.Version = first(version, i.Version, "devel")
	i.Commit = first(commit, vcsRev, "unknown")
	i.Date = first(date, vcsTime, "unknown")
	return i
}

func first(vs ...string) string {
	for _, v := range vs {
		if v != "" {
			return v
		}
	}
	return ""
}

// String is the one line `hubgw --version` prints.
func (i Info) String() string {
	return fmt.Sprintf("hubgw %s (commit %s, built %s, %s %s/%s)", i.Version, i.Commit, i.Date, i.GoVersion, runtime.GOOS, runtime.GOARCH)
}
