package uyuniapi

import "strings"

// readVerbs start the names of Uyuni methods that only read. Uyuni's 2021
// handlers carry no read-only annotation (only sync.hub does), so the
// gateway goes by the naming convention every handler follows.
var readVerbs = []string{"list", "get", "is", "has", "search", "find", "lookup", "compare", "check", "exists", "show", "download", "channelExists", "fileExists", "version", "systemVersion", "productName"}

// ReadOnly reports whether method (ns.name, without unicast./multicast.)
// only reads: such calls may be retried after a transport failure.
func ReadOnly(method string) bool {
	name := method[strings.LastIndexByte(method, '.')+1:]
	if strings.HasPrefix(method, "auth.") {
		return false
	}
	for _, v := range readVerbs {
		if strings.HasPrefix(name, v) && (len(name) == len(v) || isUpper(name[len(v)])) || name == v {
			return true
		}
	}
	return false
}

func isUpper(c byte) bool { return c >= 'A' && c <= 'Z' }
