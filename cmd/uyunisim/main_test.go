package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/hubgw/hubgw/adapters/xmlrpc"
	"github.com/hubgw/hubgw/gateway/rpc"
)

// TestBinary builds uyunisim, runs it, reads its JSON lines, calls the
// servers they name, and stops it with SIGTERM.
func TestBinary(t *testing.T) {
	if testing.Short() {
		t.Skip("builds a binary")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	bin := filepath.Join(t.TempDir(), "uyunisim")
	if out, err := exec.CommandContext(ctx, "go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}

	cmd := exec.CommandContext(ctx, bin, "--listen", "127.0.0.1:0", "--peripherals", "2", "--systems", "5",
		"--latency", "1ms", "--discovery", "entitlement", "--demo",
		"--server-version", "peripheral-2=legacy", "--admin-org", "peripheral-1=7", "--action-delay", "0s")
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	var stderr lockedBuffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill() }) // if the test fails half way

	var lines []serverLine
	sc := bufio.NewScanner(stdout)
	for len(lines) < 3 && sc.Scan() {
		var l serverLine
		if err := json.Unmarshal(sc.Bytes(), &l); err != nil {
			t.Fatalf("line %q: %v", sc.Text(), err)
		}
		lines = append(lines, l)
	}
	if len(lines) != 3 {
		t.Fatalf("got %d server lines (%v); stderr:\n%s", len(lines), sc.Err(), stderr.String())
	}
	if lines[0].Name != "hub" || lines[0].Role != "hub" || lines[0].ID != 0 ||
		lines[1].Name != "peripheral-1" || lines[1].Role != "peripheral" || lines[1].ID != 1000010001 ||
		lines[2].URL != "http://"+lines[2].FQDN+"/rpc/api" {
		t.Errorf("server lines = %+v", lines)
	}

	tr := &http.Transport{}
	defer tr.CloseIdleConnections()
	key := rpcCall(t, tr, lines[0].URL, "auth.login", "admin", "admin").(string)
	ids := rpcCall(t, tr, lines[0].URL, "system.listSystemsWithEntitlement", key, "peripheral_server").([]any)
	if len(ids) != 2 {
		t.Errorf("hub lists %d peripherals", len(ids))
	}
	pk := rpcCall(t, tr, lines[1].URL, "auth.login", "admin", "admin").(string)
	if systems := rpcCall(t, tr, lines[1].URL, "system.listSystems", pk).([]any); len(systems) != 5 {
		t.Errorf("peripheral-1 has %d systems, want 5", len(systems))
	}
	if v := rpcCall(t, tr, lines[1].URL, "api.getVersion"); v != "26" {
		t.Errorf("entitlement-mode version = %v", v)
	}
	if v := rpcCall(t, tr, lines[2].URL, "api.getVersion"); v != "25" {
		t.Errorf("--server-version peripheral-2=legacy: version %v", v)
	}
	if u := rpcCall(t, tr, lines[1].URL, "user.getDetails", pk, "admin").(rpc.Struct); u.Map()["org_id"] != int64(7) {
		t.Errorf("--admin-org peripheral-1=7: %v", u)
	}

	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	io.Copy(io.Discard, stdout) // let Wait close the pipe
	if err := cmd.Wait(); err != nil {
		t.Fatalf("exit after SIGTERM: %v\n%s", err, stderr.String())
	}
	log := stderr.String()
	for _, want := range []string{"does not exist yet", "python3 -c", "xmlrpc.client", lines[0].URL, "uyunisim stopped"} {
		if !strings.Contains(log, want) {
			t.Errorf("stderr lacks %q:\n%s", want, log)
		}
	}
	if strings.Contains(log, key) {
		t.Error("a session key was logged")
	}
}

func TestBadFlags(t *testing.T) {
	tests := []struct {
		args []string
		want string
	}{
		{[]string{"--discovery", "magic", "--listen", "127.0.0.1:0"}, "unknown discovery mode"},
		{[]string{"--log-level", "loud", "--listen", "127.0.0.1:0"}, "--log-level"},
		{[]string{"--listen", "nowhere"}, "listen address"},
		{[]string{"extra"}, "unknown command"},
	}
	for _, tt := range tests {
		t.Run(strings.Join(tt.args, " "), func(t *testing.T) {
			cmd := newCommand()
			var out bytes.Buffer
			cmd.SetOut(&out)
			cmd.SetErr(&out)
			cmd.SetArgs(tt.args)
			err := cmd.ExecuteContext(context.Background())
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error = %v, want %q", err, tt.want)
			}
		})
	}
}

func rpcCall(t *testing.T, tr http.RoundTripper, url, method string, params ...any) any {
	t.Helper()
	body, err := xmlrpc.AppendCall(nil, method, params...)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := (&http.Client{Transport: tr, Timeout: 10 * time.Second}).Post(url, "text/xml", bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	v, err := xmlrpc.DecodeResponse(b, xmlrpc.Limits{})
	if err != nil {
		t.Fatalf("%s: %v", method, err)
	}
	return v
}

// lockedBuffer is a bytes.Buffer the child's stderr copier and the test can share.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}
