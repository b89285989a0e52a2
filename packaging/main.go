// Command packaging builds hubgw's RPM and DEB from packaging/nfpm.yaml with
// nfpm, used as a library so `make package` needs nothing but Go:
//
//	go run ./packaging -version v1.2.3 -bin bin/linux_amd64/hubgw -arch amd64 -out out/
//
// It runs from the repository's root (nfpm.yaml's paths are relative to it)
// and prints the path of each package it writes.
package main

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/goreleaser/nfpm/v2"
	_ "github.com/goreleaser/nfpm/v2/deb" // registers the packagers
	_ "github.com/goreleaser/nfpm/v2/rpm"
)

// Options say what to package.
type Options struct {
	Config  string    // nfpm.yaml
	Version string    // vX.Y.Z, a Go pseudo-version, or either with -dirty
	Bin     string    // the linux binary
	Arch    string    // GOARCH
	Out     string    // directory for the packages
	MTime   time.Time // of every file, for reproducible packages
	Formats []string
}

func main() {
	o := Options{Config: "packaging/nfpm.yaml", Formats: []string{"rpm", "deb"}}
	flag.StringVar(&o.Version, "version", "", "package version (the Makefile's VERSION)")
	flag.StringVar(&o.Bin, "bin", "", "hubgw binary, built for linux")
	flag.StringVar(&o.Arch, "arch", "amd64", "GOARCH of the binary")
	flag.StringVar(&o.Out, "out", "out", "directory for the packages")
	mtime := flag.String("mtime", "", "RFC 3339 time for every file (the commit's date; default now)")
	flag.Parse()
	if *mtime != "" {
		t, err := time.Parse(time.RFC3339, *mtime)
		if err != nil {
			fmt.Fprintln(os.Stderr, "packaging: -mtime:", err)
			os.Exit(2)
		}
		o.MTime = t
	}
	paths, err := Build(o)
	if err != nil {
		fmt.Fprintln(os.Stderr, "packaging:", err)
		os.Exit(1)
	}
	for _, p := range paths {
		fmt.Println(p)
	}
}

// Build writes one package per format into o.Out and returns their paths.
func Build(o Options) ([]string, error) {
	if o.Version == "" || o.Bin == "" {
		return nil, fmt.Errorf("-version and -bin are required")
	}
	version, pre := packageVersion(o.Version)
	env := map[string]string{"VERSION": version, "ARCH": o.Arch, "BIN": o.Bin}
	cfg, err := nfpm.ParseFileWithEnvMapping(o.Config, func(k string) string { return env[k] })
	if err != nil {
		return nil, fmt.Errorf("%s: %w", o.Config, err)
	}
	if err := os.MkdirAll(o.Out, 0o755); err != nil {
		return nil, err
	}
	var paths []string
	for _, format := range o.Formats {
		info, err := cfg.Get(format)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", format, err)
		}
		info.Prerelease = pre
		if !o.MTime.IsZero() {
			info.MTime = o.MTime
		}
		if info.Changelog, err = changelog(o, info); err != nil {
			return nil, err
		}
		if info.Scripts.PreInstall, err = preinstall(o, info.Scripts.PreInstall); err != nil {
			return nil, err
		}
		info = nfpm.WithDefaults(info)
		pkger, err := nfpm.Get(format)
		if err != nil {
			return nil, err
		}
		path := filepath.Join(o.Out, pkger.ConventionalFileName(info))
		if err := write(path, pkger, info); err != nil {
			return nil, fmt.Errorf("%s: %w", format, err)
		}
		paths = append(paths, path)
	}
	return paths, nil
}

func write(path string, pkger nfpm.Packager, info *nfpm.Info) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	info.Target = path
	if err := pkger.Package(info, f); err != nil {
		f.Close()
		os.Remove(path)
		return err
	}
	return f.Close()
}

// packageVersion turns a Go version into what RPM and DEB order correctly:
// v1.2.3 is 1.2.3; a pseudo-version v0.0.0-20261121122132-4a12de87a222 is
// 0.0.0 with the pre-release 20261121122132.4a12de87a222 (nfpm writes
// 0.0.0~20261121122132.4a12de87a222, below 0.0.0); "-dirty" becomes a
// pre-release too. Dashes cannot stay: DEB reads the last one as the
// revision's start, RPM refuses them.
func packageVersion(v string) (version, prerelease string) {
	v = strings.TrimPrefix(v, "v")
	version, prerelease, _ = strings.Cut(v, "-")
	prerelease, _, _ = strings.Cut(prerelease, "+")
	return version, strings.ReplaceAll(prerelease, "-", ".")
}

// changelog writes a one-entry changelog for this build (Debian requires
// one, RPM shows it): the history itself is the repository's. Its version
// is the package's, version~prerelease-release, as both formats expect.
func changelog(o Options, info *nfpm.Info) (string, error) {
	date := o.MTime
	if date.IsZero() {
		date = time.Now()
	}
	full := info.Version
	if info.Prerelease != "" {
		full += "~" + info.Prerelease
	}
	full += "-" + info.Release
	entry := fmt.Sprintf(`- semver: %s
  date: %s
  packager: %s
  deb:
    urgency: medium
    distributions: [unstable]
  changes:
    - note: Built from %s.
`, full, date.Format(time.RFC3339), info.Maintainer, o.Version)
	path := filepath.Join(o.Out, "changelog.yml")
	return path, os.WriteFile(path, []byte(entry), 0o644)
}

// preinstall writes the pre-install script with the sysusers.d line of the
// hubgw user in it: the script runs before that file is unpacked, and the
// user is defined in one place, packaging/hubgw.sysusers.
func preinstall(o Options, script string) (string, error) {
	tmpl, err := os.ReadFile(script)
	if err != nil {
		return "", err
	}
	users, err := os.ReadFile(filepath.Join(filepath.Dir(o.Config), "hubgw.sysusers"))
	if err != nil {
		return "", err
	}
	var line string
	for l := range strings.Lines(string(users)) {
		if l = strings.TrimSpace(l); l != "" && !strings.HasPrefix(l, "#") {
			line = l
		}
	}
	if line == "" || strings.Contains(line, "'") || !strings.Contains(string(tmpl), "@SYSUSERS@") {
		return "", fmt.Errorf("%s: no sysusers line to put in %s", filepath.Join(filepath.Dir(o.Config), "hubgw.sysusers"), script)
	}
	path := filepath.Join(o.Out, "preinstall.sh")
	return path, os.WriteFile(path, []byte(strings.ReplaceAll(string(tmpl), "@SYSUSERS@", line)), 0o755)
}
