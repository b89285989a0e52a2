// Package uyuniapi is what the gateway knows about Uyuni's API beyond the
// raw catalog: which methods take a session key, which parameters hold
// ids that only mean something on one server, which overload Uyuni would
// pick for a set of arguments, and which methods only read. It is built
// once per process from the embedded catalog and handed to everything
// that needs it (the id rule, the OpenAPI model, job records), so each
// of these rules lives here once.
package uyuniapi

import (
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/hubgw/hubgw/auth"
	"github.com/hubgw/hubgw/gateway/catalog"
	"github.com/hubgw/hubgw/gateway/rpc"
)

// API indexes the catalog for the gateway's questions. Read-only once built.
type API struct {
	cat *catalog.Catalog
	idx map[string][]Overload
}

// Overload is one overload of a method, as the gateway sees it.
type Overload struct {
	Session bool    // the first parameter is the session key
	Args    []Param // the parameters after the session key
}

// Param is one parameter after the session key.
type Param struct {
	Name, Type string
	// LocalID: the parameter holds ids of objects that only mean something
	// on one server (systems, channels, actions, orgs, errata, packages,
	// groups, ...).
	LocalID bool
}

// Load parses the embedded catalog and indexes it.
func Load() (*API, error) {
	c, err := catalog.Load()
	if err != nil {
		return nil, err
	}
	return New(c), nil
}

// New indexes cat.
func New(cat *catalog.Catalog) *API {
	a := &API{cat: cat, idx: map[string][]Overload{}}
	for m := range cat.Methods() {
		o := Overload{Session: m.TakesSession()}
		ps := m.Params
		if o.Session {
			ps = ps[1:]
		}
		for _, p := range ps {
			o.Args = append(o.Args, Param{Name: p.Name, Type: p.Type, LocalID: localIDParam(p)})
		}
		a.idx[m.FullName()] = append(a.idx[m.FullName()], o)
	}
	return a
}

// Catalog is the catalog the API was built from.
func (a *API) Catalog() *catalog.Catalog { return a.cat }

// Known reports whether the catalog has the method.
func (a *API) Known(method string) bool { return len(a.idx[method]) > 0 }

// TakesSession reports whether method's first argument is a session key:
// by the catalog, else (methods newer than it, or with overloads of both
// kinds) by the first argument having a gateway session key's shape.
func (a *API) TakesSession(method string, params []any) bool {
	with, without := 0, 0
	for _, o := range a.idx[method] {
		if o.Session {
			with++
		} else {
			without++
		}
	}
	switch {
	case with > 0 && without == 0:
		return true
	case without > 0 && with == 0:
		return false
	}
	if len(params) == 0 {
		return false
	}
	_, ok := auth.KeyOf(params[0])
	return ok
}

// Candidates returns the overloads Uyuni could pick for args (the
// arguments after the session key, if any): those with as many parameters,
// narrowed to those whose types match when any do. Uyuni picks by count,
// then by type.
func (a *API) Candidates(method string, session bool, args []any) []Overload {
	var byCount []Overload
	for _, o := range a.idx[method] {
		if o.Session == session && len(o.Args) == len(args) {
			byCount = append(byCount, o)
		}
	}
	var typed []Overload
	for _, o := range byCount {
		if typesMatch(o, args) {
			typed = append(typed, o)
		}
	}
	if len(typed) > 0 {
		return typed
	}
	return byCount
}

// LocalID says whether args (after the session key, if any) carry an id
// that names a different object on each server: the name of the parameter
// that does, or, for a method the catalog does not know, "argument N (a
// number)" for the first argument that carries a number (N counts the
// session key). "" means none. Arguments at the indexes in except are
// not looked at (ids the caller has translated already).
func (a *API) LocalID(method string, session bool, args []any, except ...int) string {
	if !a.Known(method) {
		for i, v := range args {
			if CarriesNumber(v) {
				n := i + 1
				if session {
					n++
				}
				return "argument " + strconv.Itoa(n) + " (a number)"
			}
		}
		return ""
	}
	for _, o := range a.Candidates(method, session, args) {
		for i, p := range o.Args {
			if p.LocalID && !slices.Contains(except, i) && CarriesNumber(args[i]) {
				return p.Name
			}
		}
	}
	return ""
}

var (
	// camelWord splits Java parameter names: serverId → server Id,
	// systemIDs → system IDs, channelIdsOrLabels → channel Ids Or Labels.
	camelWord = regexp.MustCompile(`[A-Z]?[a-z]+[0-9]*|[A-Z]+s?[0-9]*`)
	// shortID matches Uyuni's abbreviated ids: sid, cid, pid, sgid, tzid, sid1, sids...
	shortID = regexp.MustCompile(`^[a-z]{1,2}ids?[0-9]?$`)
	// idLists are lists of server-local ids whose names do not say so.
	idLists = map[string]bool{"packages": true, "preScripts": true, "postScriptsBeforeRegistration": true, "postScriptsAfterRegistration": true, "defaultOrg": true}
)

// localIDParam reports whether a parameter holds server-local ids: an int
// or a list of them, by its Java name.
func localIDParam(p catalog.Param) bool {
	switch {
	case p.Type == rpc.TypeInt:
	case p.Type == rpc.TypeArray && (p.ElementType == "" || p.ElementType == rpc.TypeInt):
	default:
		return false
	}
	if idLists[p.Name] || p.Name == "id" || shortID.MatchString(p.Name) {
		return true
	}
	for _, w := range camelWord.FindAllString(p.Name, -1) {
		switch strings.ToLower(strings.TrimRight(w, "0123456789")) {
		case "id", "ids":
			return true
		}
	}
	return false
}

func typesMatch(o Overload, args []any) bool {
	for i, p := range o.Args {
		var ok bool
		switch v := args[i]; p.Type {
		case rpc.TypeInt:
			_, ok = v.(int64)
		case rpc.TypeString:
			_, ok = v.(string)
		case rpc.TypeBoolean:
			_, ok = v.(bool)
		case rpc.TypeDouble:
			_, ok = v.(float64)
		case rpc.TypeStruct:
			_, ok = v.(rpc.Struct)
		case rpc.TypeArray:
			_, ok = v.([]any)
		case rpc.TypeDateTime:
			_, ok = v.(time.Time)
		case rpc.TypeBase64:
			_, ok = v.([]byte)
		default:
			ok = true
		}
		if !ok {
			return false
		}
	}
	return true
}

// CarriesNumber: an int, a string of digits (Uyuni converts it), or a
// list holding one.
func CarriesNumber(v any) bool {
	switch v := v.(type) {
	case int64:
		return true
	case string:
		// strconv's error quotes its input: on a long argument (a config
		// file) that is a copy of megabytes for nothing. No int64 is longer.
		if v = strings.TrimSpace(v); len(v) > 20 {
			return false
		}
		_, err := strconv.ParseInt(v, 10, 64)
		return err == nil
	case []any:
		for _, e := range v {
			if CarriesNumber(e) {
				return true
			}
		}
	}
	return false
}
