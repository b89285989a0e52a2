package server

import (
	"encoding/base64"
	"errors"
	"log/slog"
	"slices"

	"github.com/hubgw/hubgw/gateway"
	"github.com/hubgw/hubgw/gateway/desired"
	"github.com/hubgw/hubgw/gateway/rollout"
)

// validateRollouts checks the rollout settings without I/O.
func (c Config) validateRollouts() error {
	var errs []error
	if c.RolloutLease <= 0 || c.RolloutRetention <= 0 {
		errs = append(errs, errors.New("rollout-lease and rollout-retention must be positive"))
	}
	if _, err := desired.RingOrder(c.Rings); err != nil {
		errs = append(errs, err)
	}
	return errors.Join(errs...)
}

// newRollouts builds staged rollouts over the engine: records in the
// state store, owned by this replica under a lease. With Redis the
// session key kept in a record is sealed with the secret key, as
// sessions are: a record read from Redis does not hand out a session.
func newRollouts(cfg Config, gw *gateway.Gateway, e *desired.Engine, st *state, log *slog.Logger) *desired.Rollouts {
	groups := make([]string, 0, len(cfg.Groups))
	for g := range cfg.Groups {
		groups = append(groups, g)
	}
	slices.Sort(groups)
	o := desired.RolloutOptions{Gateway: gw, Groups: groups, Rings: cfg.Rings}
	if st.seal != nil {
		aad := []byte("hubgw rollout session")
		o.Seal = func(key string) (string, error) {
			return base64.StdEncoding.EncodeToString(st.seal.Seal([]byte(key), aad)), nil
		}
		o.Open = func(sealed string) (string, error) {
			b, err := base64.StdEncoding.DecodeString(sealed)
			if err != nil {
				return "", err
			}
			key, err := st.seal.Open(b, aad)
			return string(key), err
		}
	}
	r := desired.NewRollouts(e, o)
	r.C = rollout.New(rollout.Options{
		Store: st.store, Step: r.Step, KeepAlive: r.KeepAlive, Replica: st.replica, Lease: cfg.RolloutLease, Retention: cfg.RolloutRetention,
		Logger: log.With("component", "rollouts"),
	})
	return r
}
