package uyunisim

import (
	"encoding/binary"
	"fmt"
	"hash/fnv"
	"time"

	"github.com/hubgw/hubgw/gateway/rpc"
)

// Actions follow ScheduleHandler, ScheduleActionSerializer,
// ScheduleSystemSerializer, ServerConfigHandler and ActionManager
// (paususe/uyuni, 2020). Taskomatic and the minions are the simulator's
// clock: an action stays queued until Config.ActionDelay after its earliest
// date, then each system completes or fails (Faults.ActionFailure).

// Per-system states of an action.
const (
	actionQueued = iota
	actionCompleted
	actionFailed
)

type action struct {
	id        int64
	name, typ string
	scheduler string
	earliest  time.Time
	done      bool
	systems   []actionSystem
}

type actionSystem struct {
	id      int64
	name    string
	state   int
	when    time.Time
	message string
}

// schedule records a new action for systems and returns its id.
func (st *state) schedule(c *call, name, typ string, earliest time.Time, systems []system) int64 {
	st.nextID++
	a := &action{id: st.nextID, name: name, typ: typ, scheduler: st.admin.login, earliest: earliest}
	for _, s := range systems {
		a.systems = append(a.systems, actionSystem{id: s.id, name: s.name, when: c.now()})
	}
	st.actions = append(st.actions, a)
	st.pending++
	st.wrote()
	return a.id
}

// settle finishes the actions whose time has come. It runs before every
// call, so a cached read is never stale; without pending actions it costs
// nothing.
func (st *state) settle(now time.Time, delay time.Duration, failure float64) {
	if st.pending == 0 {
		return
	}
	for _, a := range st.actions {
		if a.done || now.Before(a.earliest.Add(delay)) {
			continue
		}
		for i := range a.systems {
			s := &a.systems[i]
			s.when = now
			if fails(a.id, s.id, failure) {
				s.state, s.message = actionFailed, "uyunisim: the action failed on this system"
			} else {
				s.state, s.message = actionCompleted, "uyunisim: the action completed"
			}
		}
		a.done = true
		st.pending--
		st.wrote()
	}
}

// fails decides, the same way every time, whether an action fails on a
// system: a hash of both ids against the failure fraction.
func fails(actionID, sid int64, fraction float64) bool {
	if fraction <= 0 {
		return false
	}
	h := fnv.New64a()
	binary.Write(h, binary.LittleEndian, [2]int64{actionID, sid})
	return float64(h.Sum64()%10000)/10000 < fraction
}

func (a *action) count(state int) int {
	n := 0
	for _, s := range a.systems {
		if s.state == state {
			n++
		}
	}
	return n
}

func actionStruct(a *action) rpc.Struct {
	return rpc.Struct{
		{Name: "id", Value: a.id},
		{Name: "name", Value: a.name},
		{Name: "type", Value: a.typ},
		{Name: "scheduler", Value: a.scheduler},
		{Name: "earliest", Value: a.earliest},
		{Name: "completedSystems", Value: a.count(actionCompleted)},
		{Name: "failedSystems", Value: a.count(actionFailed)},
		{Name: "inProgressSystems", Value: a.count(actionQueued)},
	}
}

// scheduleListActions is listAllActions (state < 0) and the lists of actions
// with at least one system in a state.
func scheduleListActions(state int) func(c *call) (any, *rpc.Fault) {
	return func(c *call) (any, *rpc.Fault) {
		out := []any{}
		for _, a := range c.st.actions {
			if state < 0 || a.count(state) > 0 {
				out = append(out, actionStruct(a))
			}
		}
		return out, nil
	}
}

// scheduleListSystems is list{InProgress,Completed,Failed}Systems(actionId).
func scheduleListSystems(state int) func(c *call) (any, *rpc.Fault) {
	return func(c *call) (any, *rpc.Fault) {
		id, _ := c.integer("actionId")
		a := c.st.actionByID(id)
		if a == nil {
			// ActionManager.lookupAction's LookupException.
			return nil, unhandled(fmt.Sprintf("Could not find action with id: %d", id))
		}
		out := []any{}
		for _, s := range a.systems {
			if s.state == state {
				out = append(out, rpc.Struct{
					{Name: "server_id", Value: s.id},
					{Name: "server_name", Value: s.name},
					{Name: "base_channel", Value: ""},
					{Name: "timestamp", Value: s.when},
					{Name: "message", Value: s.message},
				})
			}
		}
		return out, nil
	}
}

func (st *state) actionByID(id int64) *action {
	return find(st.actions, func(a *action) bool { return a.id == id })
}

// systemsArg is XmlRpcSystemHelper.lookupServers: an unknown id is -208.
func (c *call) systemsArg(name string) ([]system, *rpc.Fault) {
	var out []system
	for _, v := range c.list(name) {
		id, ok := v.(int64)
		if !ok {
			return nil, castFault(v, "java.lang.Number")
		}
		s, ok := c.st.findSystem(id)
		if !ok {
			return nil, noSuchSystem(id)
		}
		out = append(out, s)
	}
	return out, nil
}

func noSuchSystem(id int64) *rpc.Fault {
	return handlerFault(-208, fmt.Sprintf("No such system - sid = %d", id))
}

// systemConfigAddChannels is ServerConfigHandler.addChannels: channels
// already subscribed are re-ranked, at the top with addToTop.
func systemConfigAddChannels(c *call) (any, *rpc.Fault) {
	systems, f := c.systemsArg("serverIds")
	if f != nil {
		return nil, f
	}
	labels, f := c.st.lookupConfigs(c.list("configChannelLabels"))
	if f != nil {
		return nil, f
	}
	top, _ := c.boolean("addToTop")
	for _, s := range systems {
		c.st.sysConfig[s.id] = rank(c.st.sysConfig[s.id], labels, top)
	}
	c.st.wrote()
	return 1, nil
}

func systemConfigListChannels(c *call) (any, *rpc.Fault) {
	sid, _ := c.integer("sid")
	if _, ok := c.st.findSystem(sid); !ok {
		return nil, noSuchSystem(sid)
	}
	return c.st.configChannelStructs(c.st.sysConfig[sid]), nil
}

// systemConfigScheduleApplyConfigChannel applies the "custom" states of
// the systems (their state channels) and returns the action id.
func systemConfigScheduleApplyConfigChannel(c *call) (any, *rpc.Fault) {
	systems, f := c.systemsArg("serverIds")
	if f != nil {
		return nil, f
	}
	earliest, _ := c.arg("earliest")
	when, _ := earliest.(time.Time)
	return c.st.schedule(c, "Apply states [custom]", "Apply states", when, systems), nil
}
