package server

import (
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"time"

	"github.com/hubgw/hubgw/adapters/console"
	"github.com/hubgw/hubgw/adapters/rest"
	"github.com/hubgw/hubgw/gateway"
	"github.com/hubgw/hubgw/gateway/desired"
	"github.com/hubgw/hubgw/gateway/fanout"
	"github.com/hubgw/hubgw/gateway/target"
	"github.com/hubgw/hubgw/gateway/uyuniapi"
	"github.com/hubgw/hubgw/openapi"
	"github.com/hubgw/hubgw/openapi/swaggerui"
)

// The REST surface's part of the assembly: the OpenAPI document, Swagger
// UI, the web console and the /api/v1 and /rhn/manager/api handlers.

// validateREST checks the REST surface's settings.
func (c Config) validateREST() error {
	var errs []error
	if _, err := time.LoadLocation(c.PeripheralTimezone); err != nil {
		errs = append(errs, fmt.Errorf("peripheral-timezone %q: %w", c.PeripheralTimezone, err))
	}
	for ref, p := range c.Peripherals {
		if p.Timezone == "" {
			continue
		}
		if _, err := time.LoadLocation(p.Timezone); err != nil {
			errs = append(errs, fmt.Errorf("peripherals.%s.timezone %q: %w", ref, p.Timezone, err))
		}
	}
	if (c.IntrospectUser == "") != (c.IntrospectPassword == "") {
		errs = append(errs, errors.New("introspect-user and introspect-password go together"))
	}
	return errors.Join(errs...)
}

// zones returns the time zone of each server's wall-clock dates:
// peripherals.<name or FQDN>.timezone, else peripheral-timezone (the hub
// is "hub" there).
func zones(cfg Config) func(target.Target) *time.Location {
	def, err := time.LoadLocation(cfg.PeripheralTimezone)
	if err != nil {
		def = time.UTC // Validate has refused it already
	}
	over := map[string]*time.Location{}
	for ref, p := range cfg.Peripherals {
		if loc, err := time.LoadLocation(p.Timezone); err == nil && p.Timezone != "" {
			over[strings.ToLower(ref)] = loc
		}
	}
	if len(over) == 0 {
		return func(target.Target) *time.Location { return def }
	}
	return func(t target.Target) *time.Location {
		if loc, ok := over[strings.ToLower(t.Name)]; ok {
			return loc
		}
		if loc, ok := over[strings.ToLower(t.FQDN)]; ok {
			return loc
		}
		return def
	}
}

func newREST(cfg Config, gw *gateway.Gateway, api *uyuniapi.API, breakers *fanout.Breakers, health *rest.Health, engine *desired.Engine, rollouts *desired.Rollouts, log *slog.Logger) (*rest.Handler, error) {
	docs, err := swaggerui.New("/docs")
	if err != nil {
		return nil, err
	}
	ui, err := console.New("/ui")
	if err != nil {
		return nil, err
	}
	groups := make([]string, 0, len(cfg.Groups))
	for g := range cfg.Groups {
		groups = append(groups, g)
	}
	slices.Sort(groups)
	return rest.New(rest.Config{
		Gateway:            gw,
		Live:               openapi.NewLive(api.Catalog(), openapi.Options{ReadOnly: uyuniapi.ReadOnly}, log),
		Docs:               docs,
		Console:            ui,
		MaxBody:            cfg.MaxBodyBytes,
		CallTimeout:        cfg.CallTimeout,
		Zone:               zones(cfg),
		Breaker:            breakers.State,
		Health:             health,
		Groups:             groups,
		IntrospectUser:     cfg.IntrospectUser,
		IntrospectPassword: cfg.IntrospectPassword,
		RefreshEvery:       cfg.OpenAPIRefresh,
		Logger:             log,
		Desired:            engine,
		Rollouts:           rollouts,
	})
}
