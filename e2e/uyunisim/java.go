package uyunisim

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/hubgw/hubgw/gateway/rpc"
)

// Uyuni picks an overload with Java reflection over the values redstone
// decoded (BaseHandler.invoke): candidates are the methods with the right
// name and parameter count; the first whose parameter types are all
// assignable from the values' classes wins; failing that, the first
// candidate is called after Translator.convert turns each mismatched value
// into the declared type, or fails. This file models the Java classes
// involved, so the simulator picks, converts and fails the same way.

// jclass is the Java class redstone gives a decoded value.
type jclass uint8

const (
	jNull jclass = iota
	jString
	jInteger
	jBoolean
	jDouble
	jDate
	jBytes
	jStruct
	jArray
	jUser // a session key BaseHandler already replaced by its user
)

func classOf(v any) jclass {
	switch v.(type) {
	case string:
		return jString
	case int64:
		return jInteger
	case bool:
		return jBoolean
	case float64:
		return jDouble
	case time.Time:
		return jDate
	case []byte:
		return jBytes
	case rpc.Struct:
		return jStruct
	case []any:
		return jArray
	case *user:
		return jUser
	}
	return jNull
}

// name is Class.getName(), as "Could not find method" lists parameters.
func (c jclass) name() string {
	switch c {
	case jString:
		return "java.lang.String"
	case jInteger:
		return "java.lang.Integer"
	case jBoolean:
		return "java.lang.Boolean"
	case jDouble:
		return "java.lang.Double"
	case jDate:
		return "java.util.Date"
	case jBytes:
		return "[B"
	case jStruct:
		return "redstone.xmlrpc.XmlRpcStruct"
	case jArray:
		return "redstone.xmlrpc.XmlRpcArray"
	case jUser:
		return "com.redhat.rhn.domain.user.legacy.UserImpl"
	}
	return "null"
}

// erase drops generic arguments: "List<Map<String,Object>>" → "List".
func erase(java string) string {
	if i := strings.IndexByte(java, '<'); i >= 0 {
		return java[:i]
	}
	return java
}

// sameClass is types[i].equals(value.getClass()).
func sameClass(java string, c jclass) bool {
	switch erase(java) {
	case "String":
		return c == jString
	case "Integer":
		return c == jInteger
	case "Boolean":
		return c == jBoolean
	case "Double":
		return c == jDouble
	case "Date":
		return c == jDate
	case "byte[]":
		return c == jBytes
	}
	return false
}

// assignable is types[i].isAssignableFrom(value.getClass()). Primitive
// parameter types (int, boolean) are never assignable from a boxed value,
// which is why Uyuni converts them.
func assignable(java string, c jclass) bool {
	if sameClass(java, c) {
		return true
	}
	switch erase(java) {
	case "Map", "HashMap", "AbstractMap": // XmlRpcStruct extends HashMap
		return c == jStruct
	case "List", "Collection", "ArrayList", "AbstractList", "Iterable": // XmlRpcArray extends ArrayList
		return c == jArray
	case "User":
		return c == jUser
	case "Object":
		return c != jNull
	case "Number":
		return c == jInteger || c == jDouble
	}
	return false
}

// javaTypeString is Class.toString() of a declared type, as
// TranslationException names it.
func javaTypeString(java string) string {
	switch t := erase(java); t {
	case "int", "boolean", "long", "double":
		return t
	case "String", "Integer", "Boolean", "Long", "Double", "Object", "Number":
		return "class java.lang." + t
	case "Date":
		return "class java.util.Date"
	case "Map", "List", "Set", "Collection":
		return "interface java.util." + t
	case "HashMap", "ArrayList":
		return "class java.util." + t
	case "User":
		return "interface com.redhat.rhn.domain.user.User"
	case "byte[]":
		return "class [B"
	default:
		return "class " + t
	}
}

// translate is Translator.convert(value, declaredType).
func (st *state) translate(v any, c jclass, java string) (any, *rpc.Fault) {
	if assignable(java, c) {
		return v, nil
	}
	want := erase(java)
	switch c {
	case jInteger:
		n := v.(int64)
		switch want {
		case "String":
			return strconv.FormatInt(n, 10), nil // int2String
		case "List":
			return []any{n}, nil // int2List
		case "boolean":
			return n == 1, nil // int2Boolean
		case "User":
			// long2User: UserFactory.lookupById. Yes, Uyuni really resolves
			// an integer in the session's place to the user with that id.
			if n == st.admin.id {
				return st.admin, nil
			}
			return nil, unhandled("null")
		}
	case jString:
		if want == "boolean" {
			s := v.(string)
			return s == "1" || strings.EqualFold(s, "y") || strings.EqualFold(s, "true"), nil // string2boolean
		}
	case jBoolean:
		switch want {
		case "boolean":
			return v, nil // boolean2boolean
		case "String":
			return strconv.FormatBool(v.(bool)), nil
		}
	case jDouble:
		if want == "String" {
			return javaDouble(v.(float64)), nil
		}
	case jDate:
		if want == "String" {
			return v.(time.Time).Format("Mon Jan 02 15:04:05 MST 2006"), nil // Date.toString
		}
	case jArray, jStruct:
		if want == "String" {
			return javaString(v), nil // list2String, map2String
		}
	}
	return nil, rawFault(&javaError{
		"com.redhat.rhn.common.translation.TranslationException",
		fmt.Sprintf("Could not find translator for class %s to %s", c.name(), javaTypeString(java)),
	})
}

// javaDouble is Double.toString for the values people send.
func javaDouble(f float64) string {
	s := strconv.FormatFloat(f, 'f', -1, 64)
	if !strings.ContainsAny(s, ".eE") {
		s += ".0"
	}
	return s
}

// javaString is toString() of a decoded value: "[a, b]", "{k=v}".
func javaString(v any) string {
	switch x := v.(type) {
	case []any:
		parts := make([]string, len(x))
		for i, e := range x {
			parts[i] = javaString(e)
		}
		return "[" + strings.Join(parts, ", ") + "]"
	case rpc.Struct:
		parts := make([]string, len(x))
		for i, m := range x {
			parts[i] = m.Name + "=" + javaString(m.Value)
		}
		return "{" + strings.Join(parts, ", ") + "}"
	case float64:
		return javaDouble(x)
	case time.Time:
		return x.Format("Mon Jan 02 15:04:05 MST 2006")
	case nil:
		return "null"
	}
	return fmt.Sprint(v)
}

// trimAll trims every string of a request, struct member names included:
// redstone trims all character data (spacecmd sends its cached key as "key\n").
func trimAll(params []any) []any {
	out := make([]any, len(params))
	for i, p := range params {
		out[i] = trimValue(p)
	}
	return out
}

func trimValue(v any) any {
	switch x := v.(type) {
	case string:
		return strings.TrimSpace(x)
	case rpc.Struct:
		out := make(rpc.Struct, len(x))
		for i, m := range x {
			out[i] = rpc.Member{Name: strings.TrimSpace(m.Name), Value: trimValue(m.Value)}
		}
		return out
	case []any:
		out := make([]any, len(x))
		for i, e := range x {
			out[i] = trimValue(e)
		}
		return out
	}
	return v
}

// beanify is StringUtil.beanify: "list_systems" → "listSystems".
func beanify(name string) string {
	if !strings.Contains(name, "_") {
		return name
	}
	parts := strings.Split(name, "_")
	var b strings.Builder
	b.WriteString(parts[0])
	for _, p := range parts[1:] {
		if p != "" {
			b.WriteString(strings.ToUpper(p[:1]) + p[1:])
		}
	}
	return b.String()
}
