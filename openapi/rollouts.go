package openapi

import (
	"net/http"

	"github.com/getkin/kin-openapi/openapi3"
)

const tagRollouts = "rollouts"

// rollouts documents /api/v1/rollouts (gateway/rollout, shown by
// gateway/desired's RolloutView). It reuses the desired-state schemas, so
// it runs after desired().
func (g *generator) rollouts() {
	document := schemaRef("Document", g.doc.Components.Schemas["Document"].Value)
	applyObject := schemaRef("ApplyObject", g.doc.Components.Schemas["ApplyObject"].Value)
	amount := func(desc string) *openapi3.SchemaRef {
		return &openapi3.SchemaRef{Value: &openapi3.Schema{Description: desc + ` A count (3) or a percentage of all targets ("10%").`,
			OneOf: openapi3.SchemaRefs{integer("int32", ""), {Value: &openapi3.Schema{Type: types(openapi3.TypeString), Pattern: `^[0-9]+(\.[0-9]+)?%$|^[0-9]+$`}}}}}
	}
	enum := func(desc string, values ...any) *openapi3.SchemaRef {
		return &openapi3.SchemaRef{Value: &openapi3.Schema{Type: types(openapi3.TypeString), Enum: values, Description: desc}}
	}
	req := g.addSchema("RolloutRequest", obj([]string{"documents", "targets"}, openapi3.Schemas{
		"documents":        arrayOf(document, "The objects; the rollout is bound to them (documentsHash)."),
		"targets":          arrayOf(str(""), "Target references: all, group names, peripheral names, FQDNs, ids."),
		"order":            enum("The order the targets are taken in (default: as resolved).", "name", "id"),
		"canary":           integer("int32", "Servers in the first wave (default 1); any failure there halts."),
		"waves":            arrayOf(amount(""), "The sizes of the waves after the canary; the last repeats until every server is done (default: the rest at once)."),
		"concurrency":      integer("int32", "Servers at once within a wave (default 10)."),
		"groupSlots":       {Value: &openapi3.Schema{Type: types(openapi3.TypeObject), Description: "At most this many servers of a configured group at once.", AdditionalProperties: openapi3.AdditionalProperties{Schema: integer("int32", "")}}},
		"maxFailures":      amount("Failed servers the whole rollout tolerates (default 0: the first failure halts)."),
		"maxWaveFailures":  amount("Failed servers one wave tolerates (optional)."),
		"pauseAfterCanary": boolean("Wait for resume after the canary."),
		"pauseBetween":     str(`A pause between waves ("30s").`),
		"unreachable":      enum("Unreachable servers count as failures (fail, the default) or are set aside for a retry (defer).", "fail", "defer"),
	}))
	started := g.addSchema("RolloutStarted", obj([]string{"id", "status", "durable"}, openapi3.Schemas{"id": str(""), "status": str(""),
		"durable": boolean("Kept in Redis and taken over by another replica if this one dies; false with the memory store: it lives in this process only."),
	}))
	status := enum("", "running", "paused", "halted", "succeeded", "completed-with-failures", "aborted")
	wave := g.addSchema("RolloutWave", obj([]string{"index", "status", "targets"}, openapi3.Schemas{
		"index": integer("int32", "0 is the canary."), "status": enum("", "pending", "running", "succeeded", "failed", "skipped"),
		"targets": arrayOf(str(""), "Its servers."),
	}))
	target := g.addSchema("RolloutTarget", obj([]string{"target", "serverId", "wave", "status", "attempt", "objects"}, openapi3.Schemas{
		"target": str(""), "serverId": integer("int64", ""), "wave": integer("int32", ""),
		"status":  enum("in-doubt: started by a replica that died before recording it; run again by the next owner.", "pending", "running", "succeeded", "failed", "unreachable", "deferred", "skipped", "in-doubt"),
		"attempt": integer("int32", "1 for the first run; a retry adds one."),
		"objects": arrayOf(applyObject, "The last attempt's outcome per object, as apply reports it."),
		"error":   str(""),
	}))
	entry := g.addSchema("RolloutLogEntry", obj([]string{"at", "event", "by"}, openapi3.Schemas{
		"at": {Value: openapi3.NewDateTimeSchema()}, "event": str("started, halted: why, resumed, taken over from a replica, ..."), "by": str("A user or a replica."),
	}))
	counts := openapi3.Schemas{}
	names := []string{"created", "updated", "unchanged", "failed", "conflict", "blocked", "unreachable", "skipped"}
	for _, n := range names {
		counts[n] = integer("int32", "")
	}
	rollout := g.addSchema("Rollout", obj([]string{"id", "status", "reason", "documentsHash", "owner", "counts", "waves", "targets"}, openapi3.Schemas{
		"id": str(""), "status": status, "reason": str("Why paused or halted (canary, credentials, the budget spent)."),
		"documentsHash": str("SHA-256 of the documents."), "owner": str("The replica driving it."), "user": str(""),
		"created": {Value: openapi3.NewDateTimeSchema()}, "updated": {Value: openapi3.NewDateTimeSchema()},
		"counts": {Value: obj(names, counts)}, "failureBudget": integer("int32", "maxFailures resolved against the targets: the failed servers it tolerates before it halts."),
		"waves": arrayOf(wave, ""), "targets": arrayOf(target, "In rollout order."),
		"log": arrayOf(entry, "The rollout's own history."),
	}))
	list := g.addSchema("RolloutList", obj([]string{"rollouts"}, openapi3.Schemas{"rollouts": arrayOf(rollout, "The caller's, newest first.")}))
	id := openapi3.Parameters{{Value: &openapi3.Parameter{Name: "id", In: openapi3.ParameterInPath, Required: true, Schema: str("")}}}
	conflict := &openapi3.ResponseRef{Value: &openapi3.Response{Description: ptr("Not now (faultCode 4125): the rollout's state does not allow it, or another active rollout touches the same object on the same server (named)."), Content: g.problem.Value.Content}}
	invalid := &openapi3.ResponseRef{Value: &openapi3.Response{Description: ptr("The request or its documents are invalid: invalidParams lists every problem."), Content: g.problem.Value.Content}}
	one := func(desc string) *openapi3.ResponseRef {
		return &openapi3.ResponseRef{Value: &openapi3.Response{Description: ptr(desc), Content: jsonContent(rollout)}}
	}
	g.addOp("/api/v1/rollouts", http.MethodPost, &openapi3.Operation{
		Tags: []string{tagRollouts}, OperationID: "startRollout", Summary: "Apply documents in stages: a canary, waves, failure budgets",
		RequestBody: body("The documents, the targets and the rollout's settings.", req),
		Responses: responses(202, &openapi3.ResponseRef{Value: &openapi3.Response{Description: ptr("Started; it runs in the background."), Content: jsonContent(started)}},
			400, g.badRequest, 401, g.unauthorized, 409, conflict, 422, invalid, "default", g.problem),
	})
	g.addOp("/api/v1/rollouts", http.MethodGet, &openapi3.Operation{
		Tags: []string{tagRollouts}, OperationID: "listRollouts", Summary: "The caller's rollouts",
		Responses: responses(200, &openapi3.ResponseRef{Value: &openapi3.Response{Description: ptr("Newest first."), Content: jsonContent(list)}}, 401, g.unauthorized, "default", g.problem),
	})
	g.addOp("/api/v1/rollouts/{id}", http.MethodGet, &openapi3.Operation{
		Tags: []string{tagRollouts}, OperationID: "getRollout", Summary: "One rollout: its waves and servers", Parameters: id,
		Responses: responses(200, one("The rollout."), 401, g.unauthorized, 404, g.notFound, "default", g.problem),
	})
	g.addOp("/api/v1/rollouts/{id}/events", http.MethodGet, &openapi3.Operation{
		Tags: []string{tagRollouts}, OperationID: "rolloutEvents", Summary: "Server-sent events: one per server, wave and rollout change", Parameters: id,
		Responses: responses(200, &openapi3.ResponseRef{Value: &openapi3.Response{
			Description: ptr("text/event-stream; the event's name is its type (server, wave, rollout); data is JSON {type, rollout, status, reason, wave, server: {target, serverId, attempt}}. It starts with where the rollout stands and ends when it has finished."),
			Content:     openapi3.Content{"text/event-stream": &openapi3.MediaType{Schema: str("")}}}},
			401, g.unauthorized, 404, g.notFound, "default", g.problem),
	})
	decisions := []struct{ op, summary, desc string }{
		{"resume", "Resume a paused or halted rollout", `Optional: {"maxFailures": a larger budget}. The caller's session becomes the rollout's (resume after a credentials pause is from a new login).`},
		{"retry", "Run the failed, unreachable, deferred and in-doubt servers again, as the next attempt", `Optional: {"servers": [names or ids]} to retry only those.`},
		{"abort", "Stop: no server starts any more; those not run are skipped", "No body."},
	}
	for _, d := range decisions {
		g.addOp("/api/v1/rollouts/{id}/"+d.op, http.MethodPost, &openapi3.Operation{
			Tags: []string{tagRollouts}, OperationID: d.op + "Rollout", Summary: d.summary, Description: "Only the rollout's user may. " + d.desc, Parameters: id,
			RequestBody: &openapi3.RequestBodyRef{Value: &openapi3.RequestBody{Content: jsonContent(&openapi3.SchemaRef{Value: obj(nil, openapi3.Schemas{
				"maxFailures": amount(""), "servers": arrayOf(str(""), ""),
			})})}},
			Responses: responses(200, one("The rollout after the decision."), 400, g.badRequest, 401, g.unauthorized, 404, g.notFound, 409, conflict, "default", g.problem),
		})
	}
}
