package jobs

import (
	"container/list"
	"context"
	"sync"
	"time"

	"github.com/hubgw/hubgw/cache"
)

// A byte budget bounds what job records hold, besides the retention: a
// burst of fan-outs must not fill the store (in memory mode the process,
// with Redis a maxmemory past which every write, logins included, fails).
// Each replica accounts for the records it wrote, in the order they
// started; past the budget, all users' or one user's, the oldest ended
// records go first. Running jobs are never dropped; each is bounded by
// MaxJobBytes instead. The account is this process's: with Redis, N
// replicas hold at most N budgets, and records written before a restart
// are bounded by the retention only.

// ledger is the account; Recorder holds one.
type ledger struct {
	maxTotal, maxUser int64

	mu    sync.Mutex
	all   *list.List           // of *account, oldest first
	users map[string]*userAcct // by user
	byID  map[string]*list.Element
	total int64
}

type userAcct struct {
	jobs  *list.List // of *list.Element of all, oldest first
	bytes int64
}

type account struct {
	id, user string
	expires  time.Time // the record's retention ends
	bytes    int64
	ended    bool
	userElem *list.Element
}

func newLedger(maxTotal, maxUser int64) *ledger {
	return &ledger{maxTotal: maxTotal, maxUser: maxUser, all: list.New(), users: map[string]*userAcct{}, byID: map[string]*list.Element{}}
}

// add accounts for a new job of n bytes, kept until expires.
func (l *ledger) add(id, user string, expires time.Time, n int64) {
	l.mu.Lock()
	defer l.mu.Unlock()
	u := l.users[user]
	if u == nil {
		u = &userAcct{jobs: list.New()}
		l.users[user] = u
	}
	a := &account{id: id, user: user, expires: expires}
	e := l.all.PushBack(a)
	a.userElem = u.jobs.PushBack(e)
	l.byID[id] = e
	l.growLocked(a, n)
}

// grow accounts for n more bytes of job id.
func (l *ledger) grow(id string, n int64) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if e, ok := l.byID[id]; ok {
		l.growLocked(e.Value.(*account), n)
	}
}

func (l *ledger) growLocked(a *account, n int64) {
	a.bytes += n
	l.total += n
	l.users[a.user].bytes += n
}

func (l *ledger) end(id string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if e, ok := l.byID[id]; ok {
		e.Value.(*account).ended = true
	}
}

// over takes the ended jobs to drop, oldest first, until user's and the
// total account are within budget (as far as ended jobs allow), and
// forgets them. Jobs past their retention are forgotten first: the store
// has dropped them already.
func (l *ledger) over(user string, now time.Time) []*account {
	l.mu.Lock()
	defer l.mu.Unlock()
	for e := l.all.Front(); e != nil && !now.Before(e.Value.(*account).expires); e = l.all.Front() {
		l.dropLocked(e.Value.(*account))
	}
	var out []*account
	if u := l.users[user]; u != nil {
		for ue := u.jobs.Front(); ue != nil && u.bytes > l.maxUser; {
			next := ue.Next()
			if a := ue.Value.(*list.Element).Value.(*account); a.ended {
				out = append(out, l.dropLocked(a))
			}
			ue = next
		}
	}
	for e := l.all.Front(); e != nil && l.total > l.maxTotal; {
		next := e.Next()
		if a := e.Value.(*account); a.ended {
			out = append(out, l.dropLocked(a))
		}
		e = next
	}
	return out
}

func (l *ledger) dropLocked(a *account) *account {
	u := l.users[a.user]
	u.jobs.Remove(a.userElem)
	u.bytes -= a.bytes
	if u.jobs.Len() == 0 {
		delete(l.users, a.user)
	}
	l.all.Remove(l.byID[a.id])
	delete(l.byID, a.id)
	l.total -= a.bytes
	return a
}

// evict deletes the records the budget no longer holds, user's first. A
// failed delete is logged; the retention removes them later.
func (r *Recorder) evict(user string) {
	drop := r.budget.over(user, r.o.Now())
	if len(drop) == 0 {
		return
	}
	err := r.st.Batch(context.Background(), func(b cache.Batch) {
		byUser := map[string][]string{}
		ids := make([]string, 0, len(drop))
		for _, a := range drop {
			b.Delete(jobKey(a.id))
			b.Delete(targetsKey(a.id))
			byUser[a.user] = append(byUser[a.user], a.id)
			ids = append(ids, a.id)
		}
		b.ZRem(allIndex, ids...)
		for u, ids := range byUser {
			b.ZRem(userIndex(u), ids...)
		}
	})
	if err != nil {
		r.o.Logger.Warn("job records over the byte budget not deleted; the retention will", "jobs", len(drop), "err", err)
		return
	}
	r.o.Logger.Debug("job records dropped for the byte budget", "jobs", len(drop))
}
