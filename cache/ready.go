package cache

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/redis/go-redis/v9"
	"golang.org/x/sync/singleflight"
)

// readyTTL is how long a cluster readiness probe's outcome is reused: a
// load balancer polling /readyz every second from several places costs
// one probe of every master per second, and a failover shows within a
// second of the cluster's own view.
const readyTTL = time.Second

// readiness caches a probe's outcome for readyTTL and runs one probe at a
// time however many callers ask.
type readiness struct {
	sf  singleflight.Group
	mu  sync.Mutex
	at  time.Time
	err error
}

func (c *readiness) check(ctx context.Context, probe func(context.Context) error) error {
	c.mu.Lock()
	if !c.at.IsZero() && time.Since(c.at) < readyTTL {
		err := c.err
		c.mu.Unlock()
		return err
	}
	c.mu.Unlock()
	_, err, _ := c.sf.Do("", func() (any, error) {
		// Not the caller's context alone: the outcome is shared.
		err := probe(context.WithoutCancel(ctx))
		c.mu.Lock()
		c.at, c.err = time.Now(), err
		c.mu.Unlock()
		return nil, err
	})
	return err
}

// clusterReady: every master that owns slots, in a slot map fetched now,
// answers and says cluster_state:ok. A master that is down, or a cluster
// that lost slot coverage (CLUSTERDOWN: every call fails although PING is
// answered), is not ready; so is the time between a master's death and
// its replica's promotion, during which calls to its slots fail.
func (r *Redis) clusterReady(ctx context.Context) error {
	ctx, cancel := r.ctx(ctx)
	defer cancel()
	err := r.cluster.ForEachMaster(ctx, func(ctx context.Context, c *redis.Client) error {
		info, err := c.ClusterInfo(ctx).Result()
		if err != nil {
			return fmt.Errorf("master %s: %w", c.Options().Addr, err)
		}
		if !strings.Contains(info, "cluster_state:ok") {
			return fmt.Errorf("master %s: cluster_state is not ok", c.Options().Addr)
		}
		return nil
	})
	return r.fail(err)
}
