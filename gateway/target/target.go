// Package target names the servers a call can go to: the hub and its
// peripherals, as the registry knows them.
package target

import "strconv"

// Target is one Uyuni server the gateway can call.
type Target struct {
	ID   int64  // the peripheral's system id on the hub; 0 for the hub itself
	Name string // the peripheral's system name on the hub, "hub" for the hub
	FQDN string // host[:port] as the hub reports it
	URL  string // the XML-RPC endpoint the gateway calls
	Hub  bool
}

// Key identifies the target in maps, logs and metrics labels.
func (t Target) Key() string {
	if t.Hub {
		return "hub"
	}
	return strconv.FormatInt(t.ID, 10)
}

// String is what people read in messages: the name, else the id.
func (t Target) String() string {
	if t.Name != "" {
		return t.Name
	}
	return t.Key()
}
