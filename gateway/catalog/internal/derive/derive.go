// Package derive turns source/uyuni-api-catalog.json into the compact
// catalog.json that package catalog embeds. It is shared by the generator
// (gateway/catalog/gen) and by the test that proves the embedded copy is
// current, so both derive the same bytes.
package derive

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strings"
)

// source mirrors the fields of the shared catalog that the product keeps.
type source struct {
	Source     string `json:"source"`
	Namespaces []struct {
		Name    string `json:"name"`
		Handler string `json:"handler"`
		Methods []struct {
			Name               string `json:"name"`
			Returns            string `json:"returns"`
			ReturnsElementType string `json:"returnsElementType"`
			JavaReturnType     string `json:"javaReturnType"`
			ReadOnly           bool   `json:"readOnly"`
			Deprecated         bool   `json:"deprecated"`
			Params             []struct {
				Name        string `json:"name"`
				Type        string `json:"type"`
				ElementType string `json:"elementType"`
				JavaType    string `json:"javaType"`
			} `json:"params"`
		} `json:"methods"`
	} `json:"namespaces"`
}

// Param and Method are the compact forms written out; package catalog reads
// the same field names.
type Param struct {
	Name        string `json:"name"`
	Type        string `json:"type"`
	ElementType string `json:"elementType,omitempty"`
	Java        string `json:"java"`
	Reflect     string `json:"reflect"`
}

type Method struct {
	Name               string  `json:"name"`
	Params             []Param `json:"params"`
	Returns            string  `json:"returns"`
	ReturnsElementType string  `json:"returnsElementType,omitempty"`
	ReturnsReflect     string  `json:"returnsReflect"`
	ReadOnly           bool    `json:"readOnly,omitempty"`
	Deprecated         bool    `json:"deprecated,omitempty"`
}

// Catalog derives the compact catalog from the shared one. The output is
// deterministic: one method per line, in source order, so diffs stay readable.
func Catalog(src []byte) ([]byte, error) {
	var in source
	if err := json.Unmarshal(src, &in); err != nil {
		return nil, fmt.Errorf("read shared catalog: %w", err)
	}
	if len(in.Namespaces) == 0 {
		return nil, fmt.Errorf("shared catalog has no namespaces")
	}
	var b bytes.Buffer
	b.WriteString("{\"source\":")
	writeJSON(&b, in.Source)
	b.WriteString(",\n\"namespaces\":[")
	for i, ns := range in.Namespaces {
		if ns.Name == "" || ns.Handler == "" {
			return nil, fmt.Errorf("namespace %d has no name or handler", i)
		}
		if i > 0 {
			b.WriteString(",")
		}
		b.WriteString("\n{\"name\":")
		writeJSON(&b, ns.Name)
		b.WriteString(",\"handler\":")
		writeJSON(&b, ns.Handler)
		b.WriteString(",\"methods\":[")
		for j, m := range ns.Methods {
			out := Method{
				Name:               m.Name,
				Params:             make([]Param, 0, len(m.Params)),
				Returns:            m.Returns,
				ReturnsElementType: m.ReturnsElementType,
				ReturnsReflect:     Reflect(m.JavaReturnType, false),
				ReadOnly:           m.ReadOnly,
				Deprecated:         m.Deprecated,
			}
			for k, p := range m.Params {
				out.Params = append(out.Params, Param{
					Name:        p.Name,
					Type:        p.Type,
					ElementType: p.ElementType,
					Java:        p.JavaType,
					Reflect:     Reflect(p.JavaType, k == 0),
				})
			}
			if j > 0 {
				b.WriteString(",")
			}
			b.WriteString("\n")
			writeJSON(&b, out)
		}
		b.WriteString("]}")
	}
	b.WriteString("\n]}\n")
	return b.Bytes(), nil
}

// writeJSON writes v without HTML escaping, so Java generics stay readable
// ("List<String>", not "List\u003cString\u003e").
func writeJSON(b *bytes.Buffer, v any) {
	enc := json.NewEncoder(b)
	enc.SetEscapeHTML(false)
	// Values here are strings and structs of strings: Encode cannot fail.
	_ = enc.Encode(v)
	b.Truncate(b.Len() - 1) // Encode ends with a newline; the layout adds its own
}

// Reflect names a Java type the way Uyuni's ApiHandler.getType does for
// api.getApiNamespaceCallList: String → string, Integer/int → int, Date →
// date, Boolean/boolean → boolean, Map → struct, List/Set/arrays → array,
// byte[] → base64, User as the first parameter → string (the session key);
// every other type, Long and DTOs included, falls through to struct.
// Generics are erased first, as reflection sees them.
func Reflect(javaType string, first bool) string {
	t := strings.ReplaceAll(javaType, " ", "")
	if strings.HasSuffix(t, "[]") {
		if t == "byte[]" {
			return "base64"
		}
		return "array"
	}
	if i := strings.IndexByte(t, '<'); i >= 0 {
		t = t[:i]
	}
	switch t {
	case "String":
		return "string"
	case "Integer", "int":
		return "int"
	case "Date":
		return "date"
	case "Boolean", "boolean":
		return "boolean"
	case "Map":
		return "struct"
	case "List", "Set":
		return "array"
	case "User":
		if first {
			return "string"
		}
	}
	return "struct"
}
