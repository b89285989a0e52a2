package uyunisim_test

import (
	"context"
	"encoding/json"
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

// pythonPrelude is what every script below starts with: Python's own
// xmlrpc.client (the client spacecmd uses) logged in to argv[1], and
// call(), which answers a fault as {"fault": code, "string": text} so a
// script can record faults and values alike in out.
const pythonPrelude = `
import base64, hashlib, json, sys, xmlrpc.client as x
s = x.ServerProxy(sys.argv[1])
k = s.auth.login("admin", "admin")
out = {}
def call(name, *args):
    f = s
    for part in name.split("."):
        f = getattr(f, part)
    try:
        return f(k, *args)
    except x.Fault as e:
        return {"fault": e.faultCode, "string": e.faultString}
def b64(text):
    return base64.b64encode(text.encode()).decode()
def sha(text):
    return hashlib.sha256(text.encode()).hexdigest()
`

// runPython runs script (after pythonPrelude) with args and decodes the
// JSON object it prints. Dates print as Python's str().
func runPython(t *testing.T, script string, args ...string) map[string]any {
	t.Helper()
	python, err := exec.LookPath("python3")
	if err != nil {
		t.Skip("python3 is not installed")
	}
	file := filepath.Join(t.TempDir(), "script.py")
	body := pythonPrelude + script + "\nprint(json.dumps(out, default=str))\n"
	if err := os.WriteFile(file, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, python, append([]string{file}, args...)...)
	var stderr strings.Builder
	cmd.Stderr = &stderr
	stdout, err := cmd.Output()
	if err != nil {
		t.Fatalf("python: %v\n%s", err, stderr.String())
	}
	var got map[string]any
	if err := json.Unmarshal(stdout, &got); err != nil {
		t.Fatalf("%v: %s", err, stdout)
	}
	return got
}

// wantJSON compares each of got's entries named in want with want's JSON
// text, and reports entries of got that want does not check.
func wantJSON(t *testing.T, got map[string]any, want map[string]string) {
	t.Helper()
	for _, name := range slices.Sorted(maps.Keys(want)) {
		var w any
		if err := json.Unmarshal([]byte(want[name]), &w); err != nil {
			t.Fatalf("%s: bad expectation %s: %v", name, want[name], err)
		}
		g, ok := got[name]
		if !ok {
			t.Errorf("%s: missing from the script's output", name)
			continue
		}
		gj, _ := json.Marshal(g)
		wj, _ := json.Marshal(w)
		if string(gj) != string(wj) {
			t.Errorf("%s:\n got %s\nwant %s", name, gj, wj)
		}
	}
	for name := range got {
		if _, ok := want[name]; !ok {
			t.Errorf("%s: not checked (%v)", name, got[name])
		}
	}
}

// fault is the JSON of call()'s answer to a handler fault.
func fault(code int, msg string) string {
	b, _ := json.Marshal(map[string]any{"fault": code, "string": "redstone.xmlrpc.XmlRpcFault: " + msg})
	return string(b)
}
