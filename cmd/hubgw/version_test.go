package main

import (
	"bytes"
	"runtime"
	"testing"

	"github.com/stretchr/testify/require"
)

// `hubgw version` and `hubgw --version` print the same line: version,
// commit, build date and the Go toolchain.
func TestVersion(t *testing.T) {
	var lines []string
	for _, args := range [][]string{{"version"}, {"--version"}} {
		cmd := root()
		var out bytes.Buffer
		cmd.SetOut(&out)
		cmd.SetArgs(args)
		require.NoError(t, cmd.Execute(), "%v", args)
		require.Regexp(t, `^hubgw \S+ \(commit \S+, built \S+, go\S+ `+runtime.GOOS+`/`+runtime.GOARCH+`\)\n$`, out.String())
		lines = append(lines, out.String())
	}
	require.Equal(t, lines[0], lines[1])
}
