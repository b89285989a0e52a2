package uyunisim

import (
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/hubgw/hubgw/gateway/rpc"
)

var configLabelRe = regexp.MustCompile(`^[a-zA-Z\d\-_.]+$`)

type configType struct {
	id       int64
	label    string
	name     string
	priority int64
}

func configTypeOf(label string) (configType, bool) {
	switch label {
	case "normal":
		return configType{1, "normal", "A normal configuration channel", 1}, true
	case "state":
		return configType{4, "state", "A state configuration channel", 1}, true
	}
	return configType{}, false
}

// creationFault is ConfigChannelHandler's answer to a ValidatorException.
func creationFault(msg string) *rpc.Fault {
	return handlerFault(1021, "Exception encountered during channel creation.\n"+msg)
}

func configChannelCreate(c *call) (any, *rpc.Fault) {
	label, name, desc := c.str("label"), c.str("name"), c.str("description")
	typ := "normal"
	if _, ok := c.arg("channelType"); ok {
		typ = c.str("channelType")
	}
	switch {
	case label == "":
		return nil, creationFault("Label is required.")
	case !configLabelRe.MatchString(label):
		return nil, creationFault("Label may contain only letters, digits, '-', '_' and '.'.")
	case name == "":
		return nil, creationFault("Name is required.")
	case c.st.configByLabel[label] != nil:
		return nil, creationFault(fmt.Sprintf("A configuration channel with label '%s' already exists.", label))
	}
	ct, ok := configTypeOf(typ)
	if !ok {
		return nil, unhandled("Invalid config channel type: " + typ)
	}
	st := c.st
	st.nextID++
	cc := &configChannel{id: st.nextID, label: label, name: name, description: desc, typ: ct.label,
		files: map[string]*configRevision{}}
	if data, ok := c.strct("data"); ok && ct.label == "state" {
		contents, f := fileContents(data)
		if f != nil {
			return nil, f
		}
		st.nextID++
		now := c.now()
		cc.files["/init.sls"] = &configRevision{id: st.nextID, revision: 1, path: "/init.sls", contents: contents,
			owner: "root", group: "root", permissions: 644, created: now, modified: now}
	}
	st.configs = append(st.configs, cc)
	st.configByLabel[label] = cc
	st.wrote()
	return configChannelStruct(cc), nil
}

func configChannelStruct(cc *configChannel) rpc.Struct {
	ct, _ := configTypeOf(cc.typ)
	return rpc.Struct{
		{Name: "id", Value: cc.id},
		{Name: "orgId", Value: orgID},
		{Name: "label", Value: cc.label},
		{Name: "name", Value: cc.name},
		{Name: "description", Value: cc.description},
		{Name: "configChannelType", Value: rpc.Struct{
			{Name: "id", Value: ct.id},
			{Name: "label", Value: ct.label},
			{Name: "name", Value: ct.name},
			{Name: "priority", Value: ct.priority},
		}},
	}
}

// lookupConfig finds a global config channel. The message approximates
// Uyuni's LookupException text.
func (st *state) lookupConfig(label string) (*configChannel, *rpc.Fault) {
	cc := st.configByLabel[label]
	if cc == nil {
		return nil, unhandled("Could not find config channel with label=" + label)
	}
	return cc, nil
}

func configChannelExists(c *call) (any, *rpc.Fault) {
	if c.st.configByLabel[c.str("channelLabel")] != nil {
		return 1, nil
	}
	return 0, nil
}

func configChannelListGlobals(c *call) (any, *rpc.Fault) {
	out := make([]any, 0, len(c.st.configs))
	for _, cc := range c.st.configs {
		ct, _ := configTypeOf(cc.typ)
		out = append(out, rpc.Struct{
			{Name: "id", Value: cc.id},
			{Name: "orgId", Value: orgID},
			{Name: "label", Value: cc.label},
			{Name: "name", Value: cc.name},
			{Name: "description", Value: cc.description},
			{Name: "type", Value: ct.label},
			{Name: "typeName", Value: ct.name},
		})
	}
	return out, nil
}

func configChannelCreateOrUpdatePath(c *call) (any, *rpc.Fault) {
	cc, f := c.st.lookupConfig(c.str("channelLabel"))
	if f != nil {
		return nil, f
	}
	path := c.str("path")
	isDir, _ := c.boolean("isDir")
	data, _ := c.strct("data")
	valid := []string{"contents", "contents_enc64", "owner", "group", "permissions", "selinux_ctx",
		"macro-start-delimiter", "macro-end-delimiter", "revision", "binary"}
	if isDir {
		valid = []string{"owner", "group", "permissions", "selinux_ctx", "revision"}
	}
	var bad []string
	for _, m := range data {
		if !slices.Contains(valid, m.Name) {
			bad = append(bad, m.Name)
		}
	}
	if len(bad) > 0 {
		return nil, handlerFault(2801, "Invalid arguments: "+strings.Join(bad, ", "))
	}
	if !strings.HasPrefix(path, "/") {
		return nil, handlerFault(1023, "Path must be absolute: "+path)
	}
	rev := &configRevision{path: path, dir: isDir, owner: "root", group: "root", permissions: 644,
		macroStart: "{|", macroEnd: "|}"}
	if isDir {
		rev.permissions = 755
	}
	for _, m := range data {
		var err *rpc.Fault
		switch m.Name {
		case "owner":
			rev.owner, err = memberString(data, m.Name)
		case "group":
			rev.group, err = memberString(data, m.Name)
		case "selinux_ctx":
			rev.selinux, err = memberString(data, m.Name)
		case "macro-start-delimiter":
			rev.macroStart, err = memberString(data, m.Name)
		case "macro-end-delimiter":
			rev.macroEnd, err = memberString(data, m.Name)
		case "binary":
			rev.binary, _ = m.Value.(bool)
		case "permissions":
			p, e := memberString(data, m.Name)
			if e != nil {
				return nil, e
			}
			n, perr := strconv.ParseInt(p, 8, 64)
			if perr != nil || n > 0o7777 {
				return nil, handlerFault(1023, "Invalid permissions: "+p)
			}
			rev.permissions, _ = strconv.ParseInt(p, 10, 64)
		}
		if err != nil {
			return nil, err
		}
	}
	if !isDir {
		var f *rpc.Fault
		if rev.contents, f = fileContents(data); f != nil {
			return nil, f
		}
	}
	st := c.st
	now := c.now()
	rev.created, rev.modified = now, now
	rev.revision = 1
	if old := cc.files[path]; old != nil {
		rev.revision = old.revision + 1
		rev.created = old.created
	}
	if v, ok := data.Get("revision"); ok {
		n, ok := v.(int64)
		if !ok {
			return nil, castFault(v, "java.lang.Integer")
		}
		rev.revision = n
	}
	st.nextID++
	rev.id = st.nextID
	cc.files[path] = rev
	st.wrote()
	return configRevisionStruct(cc, rev), nil
}

// fileContents reads "contents", base64-decoded when "contents_enc64" is true.
func fileContents(data rpc.Struct) (string, *rpc.Fault) {
	contents, f := memberString(data, "contents")
	if f != nil {
		return "", f
	}
	if enc, _ := data.Get("contents_enc64"); enc == true {
		b, err := base64.StdEncoding.DecodeString(contents)
		if err != nil {
			return "", handlerFault(1023, "contents are not valid base64")
		}
		contents = string(b)
	}
	return contents, nil
}

func configRevisionStruct(cc *configChannel, r *configRevision) rpc.Struct {
	typ := "file"
	if r.dir {
		typ = "directory"
	}
	s := rpc.Struct{
		{Name: "type", Value: typ},
		{Name: "path", Value: r.path},
		{Name: "channel", Value: cc.label},
		{Name: "revision", Value: r.revision},
		{Name: "creation", Value: r.created},
		{Name: "modified", Value: r.modified},
		{Name: "owner", Value: r.owner},
		{Name: "group", Value: r.group},
		{Name: "permissions", Value: r.permissions},
		{Name: "permissions_mode", Value: fmt.Sprintf("%d", r.permissions)},
		{Name: "selinux_ctx", Value: r.selinux},
	}
	if !r.dir {
		sum := sha256.Sum256([]byte(r.contents))
		s = append(s,
			rpc.Member{Name: "contents", Value: r.contents},
			rpc.Member{Name: "binary", Value: r.binary},
			rpc.Member{Name: "sha256", Value: hex.EncodeToString(sum[:])},
			rpc.Member{Name: "macro-start-delimiter", Value: r.macroStart},
			rpc.Member{Name: "macro-end-delimiter", Value: r.macroEnd},
		)
	}
	return s
}

func configChannelDeployAllSystems(c *call) (any, *rpc.Fault) {
	cc, f := c.st.lookupConfig(c.str("channelLabel"))
	if f != nil {
		return nil, f
	}
	if _, ok := c.arg("filePath"); ok {
		if p := c.str("filePath"); cc.files[p] == nil {
			return nil, handlerFault(-1029, fmt.Sprintf("No such config file path: %s in channel %s", p, cc.label))
		}
	}
	return 1, nil
}
