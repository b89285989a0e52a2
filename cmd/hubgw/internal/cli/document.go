package cli

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
)

// document is what the CLI reads of the gateway's /openapi.json: each
// hub operation's Uyuni method and the names and types of its parameters.
// A small decoding of the few members needed is used rather than
// kin-openapi's loader: the document has some 2,500 operations and a
// command only needs one method's parameter lists.
type document struct {
	Paths map[string]struct {
		Post *struct {
			Method      string `json:"x-uyuni-method"`
			RequestBody *struct {
				Ref string `json:"$ref"`
			} `json:"requestBody"`
		} `json:"post"`
	} `json:"paths"`
	Components struct {
		RequestBodies map[string]struct {
			Content map[string]struct {
				Schema schema `json:"schema"`
			} `json:"content"`
		} `json:"requestBodies"`
		Schemas map[string]schema `json:"schemas"`
	} `json:"components"`
}

type schema struct {
	Ref        string            `json:"$ref"`
	Type       json.RawMessage   `json:"type"`
	Required   []string          `json:"required"`
	Properties map[string]schema `json:"properties"`
}

// typeName is the schema's JSON type, "" when any.
func (s schema) typeName() string {
	var t string
	if json.Unmarshal(s.Type, &t) == nil {
		return t
	}
	var ts []string
	if json.Unmarshal(s.Type, &ts) == nil && len(ts) == 1 {
		return ts[0]
	}
	return ""
}

// param is one parameter of an overload.
type param struct{ Name, Type string }

// overloads are method's parameter lists, in the document's order
// (Uyuni's): the parameter names are the body schema's required list,
// which the gateway writes in the method's order.
func (d *document) overloads(method string) [][]param {
	var out [][]param
	var paths []string
	for p, item := range d.Paths {
		if strings.HasPrefix(p, "/api/v1/hub/") && item.Post != nil && item.Post.Method == method {
			paths = append(paths, p)
		}
	}
	slices.Sort(paths)
	for _, p := range paths {
		op := d.Paths[p].Post
		var ps []param
		if op.RequestBody != nil {
			s := d.body(op.RequestBody.Ref)
			for _, n := range s.Required {
				ps = append(ps, param{Name: n, Type: d.resolve(s.Properties[n]).typeName()})
			}
		}
		out = append(out, ps)
	}
	slices.SortStableFunc(out, func(a, b []param) int { return len(a) - len(b) })
	return out
}

// methods are the Uyuni methods the document has.
func (d *document) methods() []string {
	seen := map[string]bool{}
	var out []string
	for p, item := range d.Paths {
		if strings.HasPrefix(p, "/api/v1/hub/") && item.Post != nil && item.Post.Method != "" && !seen[item.Post.Method] {
			seen[item.Post.Method] = true
			out = append(out, item.Post.Method)
		}
	}
	slices.Sort(out)
	return out
}

func (d *document) body(ref string) schema {
	rb := d.Components.RequestBodies[strings.TrimPrefix(ref, "#/components/requestBodies/")]
	return d.resolve(rb.Content["application/json"].Schema)
}

func (d *document) resolve(s schema) schema {
	for range 8 { // refs to refs, bounded
		if s.Ref == "" {
			break
		}
		s = d.Components.Schemas[strings.TrimPrefix(s.Ref, "#/components/schemas/")]
	}
	return s
}

// document reads the gateway's OpenAPI document, kept in the user's
// cache directory and revalidated with its ETag, so a call with
// arguments costs a small 304 rather than 2 MB. The cache file is the
// ETag's line, then the document, in one file written whole, so hubgw
// runs in parallel never pair one document with another's ETag.
func (c *Client) document(ctx context.Context) (*document, error) {
	cache := c.documentCache()
	var cached []byte
	etag := ""
	if cache != "" {
		if b, err := os.ReadFile(cache); err == nil {
			if e, doc, ok := bytes.Cut(b, []byte("\n")); ok {
				etag, cached = string(e), doc
			}
		}
	}
	a, err := c.get(ctx, "/openapi.json", map[string]string{"If-None-Match": etag})
	if err != nil {
		return nil, err
	}
	body := a.Body
	switch {
	case a.Status == http.StatusNotModified && cached != nil:
		body = cached
	case cache != "" && a.ETag != "" && !strings.Contains(a.ETag, "\n"):
		// Best effort: without a cache the next call fetches it again.
		_ = writePrivate(cache, append([]byte(a.ETag+"\n"), body...))
	}
	var d document
	if err := json.Unmarshal(body, &d); err != nil {
		return nil, fmt.Errorf("%s: malformed /openapi.json: %w", c.Base, err)
	}
	if len(d.Paths) == 0 {
		return nil, errors.New(c.Base + ": /openapi.json has no operations")
	}
	return &d, nil
}

// documentCache is the file the gateway's document is kept in, "" when
// there is no cache directory.
func (c *Client) documentCache() string {
	dir, err := os.UserCacheDir()
	if err != nil {
		return ""
	}
	sum := sha256.Sum256([]byte(c.Base))
	return filepath.Join(dir, "hubgw", "openapi-"+hex.EncodeToString(sum[:8]))
}
