package spacecmd_test

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/hubgw/hubgw/adapters/spacecmd"
	"github.com/hubgw/hubgw/auth"
	"github.com/hubgw/hubgw/gateway"
	"github.com/hubgw/hubgw/gateway/fanout"
	"github.com/hubgw/hubgw/gateway/registry"
	"github.com/hubgw/hubgw/gateway/rpc"
	"github.com/hubgw/hubgw/gateway/target"
)

// fakeServers answers calls by server and method; every server accepts
// admin/admin and the service account svc/svc.
type fakeServers struct {
	mu      sync.Mutex
	answers map[string]func(t target.Target, params []any) (any, *rpc.Fault) // by method
	calls   []string                                                         // "server method"
	logins  []string                                                         // "server user"
}

func (f *fakeServers) invoke(_ context.Context, c fanout.Call) fanout.Result {
	f.mu.Lock()
	f.calls = append(f.calls, c.Target.String()+" "+c.Method)
	f.mu.Unlock()
	if c.Method == "auth.login" {
		user, _ := c.Params[0].(string)
		f.mu.Lock()
		f.logins = append(f.logins, c.Target.String()+" "+user)
		f.mu.Unlock()
		if (user == "admin" && c.Params[1] == "admin") || (user == "svc" && c.Params[1] == "svc") {
			return fanout.Result{Target: c.Target, Value: "key-" + c.Target.String()}
		}
		return fanout.Result{Target: c.Target, Fault: &rpc.Fault{Code: 2950, String: "Either the password or username is incorrect."}}
	}
	if fn, ok := f.answers[c.Method]; ok {
		v, fault := fn(c.Target, c.Params)
		return fanout.Result{Target: c.Target, Value: v, Fault: fault}
	}
	return fanout.Result{Target: c.Target, Fault: &rpc.Fault{Code: -1, String: "Could not find method: " + c.Method}}
}

func (f *fakeServers) sent(method string) int {
	f.mu.Lock()
	defer f.mu.Unlock()
	n := 0
	for _, c := range f.calls {
		if strings.HasSuffix(c, " "+method) {
			n++
		}
	}
	return n
}

// handle sends one call aimed at spec, as the HTTP edge does.
type handle func(spec, method string, params []any) (any, error)

func newTargeted(t *testing.T, answers map[string]func(target.Target, []any) (any, *rpc.Fault), tweak func(*gateway.Options)) (handle, *fakeServers, *auth.MemoryStore) {
	t.Helper()
	f := &fakeServers{answers: answers}
	peripherals := []target.Target{{ID: 1, Name: "p1", FQDN: "p1.example.com"}, {ID: 2, Name: "p2", FQDN: "p2.example.com"}, {ID: 3, Name: "p3", FQDN: "p3.example.com"}}
	reg := registry.New(func(context.Context, string) (*registry.Snapshot, error) {
		return &registry.Snapshot{Targets: append([]target.Target(nil), peripherals...)}, nil
	}, registry.Options{})
	t.Cleanup(reg.Wait)
	store := auth.NewMemoryStore(auth.Expiry{}, 0, nil)
	o := gateway.Options{Sessions: store, Registry: reg, Invoke: f.invoke, Groups: map[string][]string{"pair": {"p1", "3"}}}
	if tweak != nil {
		tweak(&o)
	}
	gw := gateway.New(o)
	gw.Use(gw.IDRule(), gw.RecordJobs(), gw.KeepSessions())
	d := spacecmd.New(gw, nil)
	return func(spec, method string, params []any) (any, error) {
		return d.Handle(context.Background(), spec, method, params)
	}, f, store
}

func loginAt(t *testing.T, h handle, spec string) string {
	t.Helper()
	v, err := h(spec, "auth.login", []any{"admin", "admin"})
	require.NoError(t, err)
	return v.(string)
}

func faultOf(t *testing.T, err error) *rpc.Fault {
	t.Helper()
	require.Error(t, err)
	var f *rpc.Fault
	require.ErrorAs(t, err, &f)
	return f
}

func TestTargetedMergesAndDisagreements(t *testing.T) {
	byServer := func(vals map[string]any) func(target.Target, []any) (any, *rpc.Fault) {
		return func(t target.Target, _ []any) (any, *rpc.Fault) { return vals[t.String()], nil }
	}
	details := func(id int64) rpc.Struct {
		return rpc.Struct{{Name: "id", Value: id}, {Name: "label", Value: "c"}}
	}
	h, _, _ := newTargeted(t, map[string]func(target.Target, []any) (any, *rpc.Fault){
		"api.getVersion":              byServer(map[string]any{"hub": "28", "p1": "27", "p2": "25", "p3": "26"}),
		"channel.software.getDetails": byServer(map[string]any{"p1": details(7), "p2": details(8), "p3": details(9)}),
		"configchannel.create":        byServer(map[string]any{"p1": details(7), "p2": details(8), "p3": details(9)}),
		"channel.software.create":     byServer(map[string]any{"p1": int64(1), "p2": int64(1), "p3": int64(1)}),
		"user.listAssignableRoles":    byServer(map[string]any{"p1": []any{"org_admin", "channel_admin"}, "p2": []any{"org_admin"}, "p3": []any{}}),
		"system.listSystems": byServer(map[string]any{
			"p1": []any{rpc.Struct{{Name: "id", Value: int64(10)}}},
			"p3": []any{rpc.Struct{{Name: "id", Value: int64(10)}}, rpc.Struct{{Name: "id", Value: int64(11)}}},
			"p2": []any{},
		}),
	}, nil)
	key := loginAt(t, h, "all")
	require.Regexp(t, `^gw[0-9a-f]{64}$`, key)

	for _, tc := range []struct {
		name, spec, method string
		args               []any
		want               any
		code               int
		contains           string
	}{
		{"the version is the hub's", "all", "api.getVersion", nil, "28", 0, ""},
		{"for one peripheral too", "p2", "api.getVersion", nil, "28", 0, ""},
		{"a read's structs differ", "all", "channel.software.getDetails", []any{key, "c"}, nil, gateway.CodeTargetsDisagree, "p1: a struct; p2: a struct; p3: a struct); call it for one peripheral, or call broadcast.channel.software.getDetails at /hub/rpc/api"},
		{"a write's structs differ: the first's, marked", "pair", "configchannel.create", []any{key, "c", "c", "c", "normal"}, rpc.Struct{{Name: "id", Value: int64(7)}, {Name: "label", Value: "c"}, {Name: gateway.PeripheralMember, Value: "p1"}}, 0, ""},
		{"the common write result", "all", "channel.software.create", []any{key, "c", "c", "c", "channel-x86_64", ""}, int64(1), 0, ""},
		{"lists merged in target order", "p3,p1", "system.listSystems", []any{key + "\n"}, []any{
			rpc.Struct{{Name: "id", Value: int64(10)}, {Name: gateway.PeripheralMember, Value: "p3"}},
			rpc.Struct{{Name: "id", Value: int64(11)}, {Name: gateway.PeripheralMember, Value: "p3"}},
			rpc.Struct{{Name: "id", Value: int64(10)}, {Name: gateway.PeripheralMember, Value: "p1"}},
		}, 0, ""},
		{"scalars once", "all", "user.listAssignableRoles", []any{key}, []any{"org_admin", "channel_admin"}, 0, ""},
		{"one peripheral: unchanged", "p1", "system.listSystems", []any{key}, []any{rpc.Struct{{Name: "id", Value: int64(10)}}}, 0, ""},
		{"a group", "pair", "user.listAssignableRoles", []any{key}, []any{"org_admin", "channel_admin"}, 0, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			v, err := h(tc.spec, tc.method, tc.args)
			if tc.code != 0 {
				f := faultOf(t, err)
				require.Equal(t, tc.code, f.Code, f.String)
				require.Contains(t, f.String, tc.contains)
				return
			}
			require.NoError(t, err)
			require.Equal(t, tc.want, v)
		})
	}
}

func TestTargetedFailures(t *testing.T) {
	down := func(name string, f *rpc.Fault) func(target.Target, []any) (any, *rpc.Fault) {
		return func(t target.Target, _ []any) (any, *rpc.Fault) {
			if name == "*" || t.String() == name {
				return nil, f
			}
			return int64(1), nil
		}
	}
	h, _, _ := newTargeted(t, map[string]func(target.Target, []any) (any, *rpc.Fault){
		"channel.software.create": down("p2", &rpc.Fault{Code: 1200, String: "name in use"}),
		"configchannel.create":    down("*", &rpc.Fault{Code: 1021, String: "exists"}),
	}, nil)
	key := loginAt(t, h, "all")

	_, err := h("all", "channel.software.create", []any{key, "c", "c", "c", "channel-x86_64", ""})
	f := faultOf(t, err)
	require.Equal(t, gateway.CodeTargetsFailed, f.Code)
	require.Equal(t, "hubgw: channel.software.create failed on 1 of 3 targets: p2: Fault(1200): name in use; it succeeded on p1, p3", f.String)

	_, err = h("pair", "configchannel.create", []any{key, "c", "c", "c"})
	f = faultOf(t, err)
	require.Equal(t, 1021, f.Code, "all failed alike: their code")
	require.Equal(t, "hubgw: configchannel.create failed on 2 of 2 targets: p1: Fault(1021): exists; p3: Fault(1021): exists", f.String)
}

func TestTargetedServerLocalIDs(t *testing.T) {
	ok := func(target.Target, []any) (any, *rpc.Fault) { return int64(1), nil }
	h, f, _ := newTargeted(t, map[string]func(target.Target, []any) (any, *rpc.Fault){
		"system.getDetails": ok, "channel.software.getDetails": ok, "system.scheduleReboot": ok,
		"activationkey.create": ok, "system.newMethod": ok, "channel.software.mergePackages": ok,
	}, nil)
	key := loginAt(t, h, "all")
	for _, tc := range []struct {
		name, spec, method string
		args               []any
		param              string // refused for naming this parameter; "" allowed
	}{
		{"system id", "all", "system.getDetails", []any{key, int64(1000010001)}, "serverId"},
		{"a list is many", "p1,p2", "system.getDetails", []any{key, int64(1000010001)}, "serverId"},
		{"one peripheral may", "p2", "system.getDetails", []any{key, int64(1000010001)}, ""},
		{"channel by label", "all", "channel.software.getDetails", []any{key, "my-channel"}, ""},
		{"channel by id", "all", "channel.software.getDetails", []any{key, int64(101)}, "id"},
		{"usage limit is not an id", "all", "activationkey.create", []any{key, "k", "d", "", int64(10), []any{}, false}, ""},
		{"not in the catalog, a number", "all", "system.newMethod", []any{key, int64(5)}, "argument 2 (a number)"},
		{"not in the catalog, no number", "all", "system.newMethod", []any{key, "x"}, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			before := f.sent(tc.method)
			_, err := h(tc.spec, tc.method, tc.args)
			if tc.param == "" {
				require.NoError(t, err)
				return
			}
			fault := faultOf(t, err)
			require.Equal(t, gateway.CodeServerLocalID, fault.Code)
			require.Contains(t, fault.String, tc.param)
			require.Contains(t, fault.String, "call it for one peripheral")
			require.Equal(t, before, f.sent(tc.method), "refused before anything is sent")
		})
	}
}

func TestTargetedLogin(t *testing.T) {
	t.Run("one target that refuses: its fault, no session left", func(t *testing.T) {
		h, _, store := newTargeted(t, nil, func(o *gateway.Options) {
			o.ServiceCredentials = func(t target.Target) (string, string, bool) { return "svc", "wrong", t.Name == "p2" }
		})
		_, err := h("p2", "auth.login", []any{"admin", "admin"})
		f := faultOf(t, err)
		require.Equal(t, 2950, f.Code)
		require.Equal(t, 0, store.Len())
	})
	t.Run("many targets: the login stands, the call names the refusing one", func(t *testing.T) {
		h, _, _ := newTargeted(t, map[string]func(target.Target, []any) (any, *rpc.Fault){
			"system.listSystems": func(target.Target, []any) (any, *rpc.Fault) { return []any{}, nil },
		}, func(o *gateway.Options) {
			o.ServiceCredentials = func(t target.Target) (string, string, bool) { return "svc", "wrong", t.Name == "p2" }
		})
		key := loginAt(t, h, "all")
		_, err := h("all", "system.listSystems", []any{key})
		f := faultOf(t, err)
		require.Equal(t, gateway.CodeTargetsFailed, f.Code)
		require.Contains(t, f.String, "p2: Fault(2950)")
	})
	t.Run("service credentials where configured, the user's elsewhere", func(t *testing.T) {
		h, f, _ := newTargeted(t, nil, func(o *gateway.Options) {
			o.ServiceCredentials = func(t target.Target) (string, string, bool) { return "svc", "svc", t.Name == "p3" }
		})
		loginAt(t, h, "p1,p3")
		require.ElementsMatch(t, []string{"hub admin", "p1 admin", "p3 svc"}, f.logins)
	})
	t.Run("unknown target", func(t *testing.T) {
		h, _, store := newTargeted(t, nil, nil)
		_, err := h("p9", "auth.login", []any{"admin", "admin"})
		f := faultOf(t, err)
		require.Equal(t, gateway.CodeUnknownServer, f.Code)
		require.Equal(t, `hubgw: unknown target "p9"; valid targets: hub, all, pair, p1, p2, p3`, f.String)
		require.Equal(t, 0, store.Len(), "the half-opened session is gone")
	})
	t.Run("wrong password", func(t *testing.T) {
		h, _, _ := newTargeted(t, nil, nil)
		_, err := h("all", "auth.login", []any{"admin", "nope"})
		require.Equal(t, 2950, faultOf(t, err).Code)
	})
	t.Run("hub-xmlrpc-api methods belong at /hub/rpc/api", func(t *testing.T) {
		h, _, _ := newTargeted(t, nil, nil)
		_, err := h("all", "hub.login", []any{"admin", "admin"})
		require.Equal(t, gateway.CodeNoMethod, faultOf(t, err).Code)
	})
	t.Run("logout ends the session", func(t *testing.T) {
		h, _, store := newTargeted(t, nil, nil)
		key := loginAt(t, h, "p1")
		v, err := h("p1", "auth.logout", []any{key + "\n"})
		require.NoError(t, err)
		require.Equal(t, int64(1), v)
		require.Equal(t, 0, store.Len())
		_, err = h("p1", "system.listSystems", []any{key})
		require.Equal(t, -1, faultOf(t, err).Code)
	})
}

// A call without a session key reaches the hub only: before and after a
// login, whatever the target, nothing fans out and no peripheral is named.
func TestTargetedWithoutSession(t *testing.T) {
	h, f, _ := newTargeted(t, map[string]func(target.Target, []any) (any, *rpc.Fault){
		"api.getVersion":    func(t target.Target, _ []any) (any, *rpc.Fault) { return fmt.Sprintf("v-%s", t), nil },
		"api.systemVersion": func(t target.Target, _ []any) (any, *rpc.Fault) { return fmt.Sprintf("s-%s", t), nil },
	}, nil)
	for _, spec := range []string{"nope", "p1", "all", "pair"} {
		v, err := h(spec, "api.getVersion", nil)
		require.NoError(t, err)
		require.Equal(t, "v-hub", v)
	}
	loginAt(t, h, "hub")
	for _, spec := range []string{"p2", "all", "nope"} {
		v, err := h(spec, "api.systemVersion", nil)
		require.NoError(t, err)
		require.Equal(t, "s-hub", v)
	}
	require.Equal(t, 7, f.sent("api.getVersion")+f.sent("api.systemVersion"), "one call each, to the hub")
	for _, c := range f.calls {
		if strings.HasPrefix(c, "api.") || strings.Contains(c, " api.") {
			require.True(t, strings.HasPrefix(c, "hub "), c)
		}
	}
}
