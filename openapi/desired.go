package openapi

import (
	"net/http"

	"github.com/getkin/kin-openapi/openapi3"
)

const tagDesired = "desired state"

// desired documents POST /api/v1/plan, POST /api/v1/apply and GET
// /api/v1/export/{target}/{kind}/{name} (gateway/desired's answers).
func (g *generator) desired() {
	anyValue := &openapi3.SchemaRef{Value: &openapi3.Schema{Description: "A field's value: string, boolean, integer or list of strings; null when absent."}}
	document := g.addSchema("Document", obj([]string{"apiVersion", "kind", "metadata"}, openapi3.Schemas{
		"apiVersion": {Value: &openapi3.Schema{Type: types(openapi3.TypeString), Enum: []any{"hubgw/v1"}}},
		"kind":       {Value: &openapi3.Schema{Type: types(openapi3.TypeString), Enum: []any{"SoftwareChannel", "ConfigChannel", "ActivationKey", "SystemGroup"}}},
		"metadata":   {Value: obj([]string{"name"}, openapi3.Schemas{"name": str("The label; for a key, the key without its org prefix.")})},
		"spec":       {Value: &openapi3.Schema{Type: types(openapi3.TypeObject), Description: "The managed fields (see the README); omitted fields are neither compared nor written."}},
	}))
	example := map[string]any{
		"documents": []any{map[string]any{"apiVersion": "hubgw/v1", "kind": "SystemGroup", "metadata": map[string]any{"name": "web"}, "spec": map[string]any{"description": "Web servers"}}},
		"targets":   []any{"all"},
	}
	req := g.addSchema("DesiredRequest", obj([]string{"documents", "targets"}, openapi3.Schemas{
		"documents": arrayOf(document, "The objects, in any order: they are applied in dependency order."),
		"targets":   arrayOf(str(""), "Target references: all, group names, peripheral names, FQDNs, ids, hub."),
	}))
	reqBody := &openapi3.RequestBodyRef{Value: &openapi3.RequestBody{Required: true,
		Description: "JSON, or the YAML documents (--- between them) as application/yaml with ?targets=all (repeated or comma-separated).",
		Content: openapi3.Content{
			contentJSON:        &openapi3.MediaType{Schema: req, Example: example},
			"application/yaml": &openapi3.MediaType{Schema: str("YAML documents."), Example: "apiVersion: hubgw/v1\nkind: SystemGroup\nmetadata: {name: web}\nspec: {description: Web servers}\n"},
		}}}
	targetsQuery := openapi3.Parameters{{Value: &openapi3.Parameter{Name: "targets", In: openapi3.ParameterInQuery,
		Description: "With an application/yaml body: the target references.", Schema: arrayOf(str(""), "")}}}
	change := g.addSchema("Change", obj([]string{"field", "have", "want"}, openapi3.Schemas{
		"field": str("The field, as in the document (gpg.id, files[/etc/motd].sha256)."), "have": anyValue, "want": anyValue,
	}))
	counts := func(names ...string) *openapi3.SchemaRef {
		props := openapi3.Schemas{}
		for _, n := range names {
			props[n] = integer("int32", "")
		}
		return &openapi3.SchemaRef{Value: obj(names, props)}
	}
	enum := func(desc string, values ...any) *openapi3.SchemaRef {
		return &openapi3.SchemaRef{Value: &openapi3.Schema{Type: types(openapi3.TypeString), Enum: values, Description: desc}}
	}
	target := func(name string, object *openapi3.SchemaRef) *openapi3.SchemaRef {
		return g.addSchema(name, obj([]string{"target", "serverId", "objects"}, openapi3.Schemas{
			"target": str("The server."), "serverId": integer("int64", "Its id on the hub; 0 for the hub."),
			"objects": arrayOf(object, "In dependency order."),
		}))
	}
	planObject := g.addSchema("PlanObject", obj([]string{"kind", "name", "action", "changes"}, openapi3.Schemas{
		"kind": str(""), "name": str(""),
		"action":  enum("What apply would do.", "create", "update", "noop", "conflict", "blocked", "unknown"),
		"changes": arrayOf(change, "The fields that differ (all of them for create)."),
		"reason":  str("Why conflict, blocked or unknown."),
	}))
	plan := g.addSchema("PlanResult", obj([]string{"targets", "summary"}, openapi3.Schemas{
		"targets": arrayOf(target("PlanTarget", planObject), ""),
		"summary": counts("create", "update", "noop", "conflict", "blocked", "unknown"),
	}))
	step := g.addSchema("ApplyStep", obj([]string{"call", "durationMs"}, openapi3.Schemas{
		"call": str("The Uyuni method (arguments are not kept)."), "durationMs": {Value: openapi3.NewFloat64Schema()},
		"faultCode": integer("int32", ""), "faultString": str(""),
	}))
	applyObject := g.addSchema("ApplyObject", obj([]string{"kind", "name", "outcome", "partial", "steps"}, openapi3.Schemas{
		"kind": str(""), "name": str(""),
		"outcome":     enum("", "created", "updated", "unchanged", "failed", "conflict", "blocked", "unreachable", "skipped"),
		"partial":     boolean("Failed after some of the object's writes were applied (see steps)."),
		"steps":       arrayOf(step, "The write calls made for the object."),
		"changes":     arrayOf(change, "What differed (or still differs, when failed as not converged)."),
		"faultCode":   integer("int32", ""),
		"faultString": str(""),
		"reason":      str(""),
	}))
	apply := g.addSchema("ApplyResult", obj([]string{"jobId", "targets", "summary"}, openapi3.Schemas{
		"jobId":     str("The job that records the apply (GET /api/v1/jobs/{jobId}); empty when jobs are not recorded. A server whose objects failed is a fault there (4126), with its outcomes."),
		"rolloutId": str("The rollout that ran the apply (one wave of every target, no canary, no failure budget), kept for audit: GET /api/v1/rollouts/{id}."),
		"targets":   arrayOf(target("ApplyTarget", applyObject), ""),
		"summary":   counts("created", "updated", "unchanged", "failed", "conflict", "blocked", "unreachable", "skipped"),
	}))
	invalid := &openapi3.ResponseRef{Value: &openapi3.Response{Description: ptr("The documents are invalid: invalidParams lists every problem with its path (documents[2].spec.files[0].mode)."),
		Content: g.problem.Value.Content}}
	g.addOp("/api/v1/plan", http.MethodPost, &openapi3.Operation{
		Tags: []string{tagDesired}, OperationID: "plan", Summary: "Per server, per object, what apply would change (read-only)",
		Parameters: targetsQuery, RequestBody: reqBody,
		Responses: responses(200, &openapi3.ResponseRef{Value: &openapi3.Response{Description: ptr("The plan."), Content: jsonContent(plan)}},
			400, g.badRequest, 401, g.unauthorized, 404, g.notFound, 422, invalid, "default", g.problem),
	})
	g.addOp("/api/v1/apply", http.MethodPost, &openapi3.Operation{
		Tags: []string{tagDesired}, OperationID: "apply", Summary: "Make the targets match the documents, as a rollout of one wave waited for; one job records it",
		Parameters: targetsQuery, RequestBody: reqBody,
		Responses: responses(200, &openapi3.ResponseRef{Value: &openapi3.Response{Description: ptr("The outcome per server and object."), Content: jsonContent(apply)}},
			400, g.badRequest, 401, g.unauthorized, 404, g.notFound,
			409, &openapi3.ResponseRef{Value: &openapi3.Response{Description: ptr("Another active rollout touches the same object on the same server (faultCode 4125, named)."), Content: g.problem.Value.Content}},
			422, invalid, "default", g.problem),
	})
	path := func(name, desc string, s *openapi3.SchemaRef) *openapi3.ParameterRef {
		return &openapi3.ParameterRef{Value: &openapi3.Parameter{Name: name, In: openapi3.ParameterInPath, Required: true, Description: desc, Schema: s}}
	}
	g.addOp("/api/v1/export/{target}/{kind}/{name}", http.MethodGet, &openapi3.Operation{
		Tags: []string{tagDesired}, OperationID: "export", Summary: "One object of one server as a document (export, then apply elsewhere)",
		Parameters: openapi3.Parameters{
			path("target", "One server: hub, a name, FQDN or id.", str("")),
			path("kind", "", enum("", "SoftwareChannel", "ConfigChannel", "ActivationKey", "SystemGroup")),
			path("name", "The label; for a key, without its org prefix.", str("")),
		},
		Responses: responses(200, &openapi3.ResponseRef{Value: &openapi3.Response{Description: ptr("The document (YAML when Accept asks for application/yaml)."),
			Content: openapi3.Content{contentJSON: &openapi3.MediaType{Schema: document}, "application/yaml": &openapi3.MediaType{Schema: str("")}}}},
			401, g.unauthorized, 404, g.notFound, 422, invalid, "default", g.problem),
	})
}
