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
	"time"

	"github.com/hubgw/hubgw/gateway/rpc"
)

// Config channels follow ConfigChannelHandler, XmlRpcConfigChannelHelper,
// ConfigChannelCreationHelper, ConfigFileBuilder, ConfigRevisionSerializer,
// ConfigFileDtoSerializer and ConfigSystemDtoSerializer (paususe/uyuni, 2020).

// configLabelRe is ConfigChannelCreationHelper's label rule (and no leading '-').
var configLabelRe = regexp.MustCompile(`^[a-zA-Z0-9\-_]+$`)

// ConfigChannelCreationHelper's limits.
const (
	configLabelMax = 64
	configNameMax  = 128
)

// initSLS is the file every state channel has (createInitSlsFile).
const initSLS = "/init.sls"

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

// creationFault is ConfigChannelHandler's answer to a ValidatorException:
// ValidatorResult.getMessage lists the errors under "ERRORS:".
func creationFault(errs ...string) *rpc.Fault {
	return handlerFault(1021, "Exception encountered during channel creation.\nERRORS:\n"+strings.Join(errs, "\n")+"\n")
}

// validateConfigChannel is ConfigChannelCreationHelper.validate: every
// field is checked and all errors reported together.
func validateConfigChannel(label, name, desc string) *rpc.Fault {
	var errs []string
	switch {
	case strings.TrimSpace(label) == "":
		errs = append(errs, "Configuration channel label is required.")
	case len(strings.TrimSpace(label)) > configLabelMax:
		errs = append(errs, fmt.Sprintf("Configuration channel label cannot be greater than %d.", configLabelMax))
	case strings.HasPrefix(label, "-") || !configLabelRe.MatchString(label):
		errs = append(errs, "Configuration channel label contains invalid characters. In addition to alphanumeric characters, '-' and '_' are allowed.")
	}
	switch {
	case strings.TrimSpace(name) == "":
		errs = append(errs, "Configuration channel name is required.")
	case len(strings.TrimSpace(name)) > configNameMax:
		errs = append(errs, fmt.Sprintf("Configuration channel name cannot be greater than %d.", configNameMax))
	}
	if strings.TrimSpace(desc) == "" {
		errs = append(errs, "Configuration channel description is required.")
	}
	if len(errs) > 0 {
		return creationFault(errs...)
	}
	return nil
}

// configChannelCreate: validation, then the type, then the label in use
// (all 1021); a state channel gets an /init.sls, empty or from the
// 5-parameter overload's data.
func configChannelCreate(c *call) (any, *rpc.Fault) {
	label, name, desc := c.str("label"), c.str("name"), c.str("description")
	typ := "normal"
	if _, ok := c.arg("channelType"); ok {
		typ = c.str("channelType")
	}
	if f := validateConfigChannel(label, name, desc); f != nil {
		return nil, f
	}
	ct, ok := configTypeOf(typ)
	if !ok {
		return nil, creationFault("Only valid values for 'Configuration Channel Type' are (normal,state)")
	}
	st := c.st
	if st.configByLabel[label] != nil {
		return nil, creationFault("Label '" + label + "' already exists.  Please choose a different label for the new channel.")
	}
	var initContents []byte
	if data, ok := c.strct("data"); ok && ct.label == "state" {
		var f *rpc.Fault
		if initContents, f = fileContents(data); f != nil {
			return nil, f
		}
	}
	st.nextID++
	cc := &configChannel{id: st.nextID, label: label, name: name, description: desc, typ: ct.label}
	if ct.label == "state" {
		st.addRevision(cc, initSLS, &configRevision{typ: "sls", contents: initContents, owner: "root", group: "root", permissions: 644}, c.now())
	}
	st.configs = append(st.configs, cc)
	st.configByLabel[label] = cc
	st.wrote()
	return st.configChannelStruct(cc), nil
}

func (st *state) configChannelStruct(cc *configChannel) rpc.Struct {
	ct, _ := configTypeOf(cc.typ)
	return rpc.Struct{
		{Name: "id", Value: cc.id},
		{Name: "orgId", Value: st.org.id},
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

// configChannelStructs lists config channels by label, in the given order.
func (st *state) configChannelStructs(labels []string) []any {
	out := make([]any, 0, len(labels))
	for _, l := range labels {
		if cc := st.configByLabel[l]; cc != nil {
			out = append(out, st.configChannelStruct(cc))
		}
	}
	return out
}

// lookupConfig is XmlRpcConfigChannelHelper.lookupGlobal.
func (st *state) lookupConfig(label string) (*configChannel, *rpc.Fault) {
	cc := st.configByLabel[label]
	if cc == nil {
		return nil, handlerFault(-210, "No such channel: "+label)
	}
	return cc, nil
}

// lookupConfigs is lookupGlobals: the labels, once each all exist.
func (st *state) lookupConfigs(l []any) ([]string, *rpc.Fault) {
	labels, f := stringList(l)
	if f != nil {
		return nil, f
	}
	for _, label := range labels {
		if _, f := st.lookupConfig(label); f != nil {
			return nil, f
		}
	}
	return labels, nil
}

// configArg looks up the channel a call names; the parameter's Java name
// differs between methods.
func (c *call) configArg() (*configChannel, *rpc.Fault) {
	for _, p := range []string{"channelLabel", "configChannelLabel", "label"} {
		if v, ok := c.arg(p); ok {
			s, _ := v.(string)
			return c.st.lookupConfig(s)
		}
	}
	return nil, unhandled("uyunisim: no channel parameter")
}

func (cc *configChannel) file(path string) *configFile {
	return find(cc.files, func(f *configFile) bool { return f.path == path })
}

// noSuchPath is NoSuchConfigFilePathException(path, channelLabel).
func noSuchPath(path, label string) *rpc.Fault {
	return handlerFault(-1029, "No such configuration file path: "+path+" in config channel: "+label)
}

// noSuchFile is the 1022 of getFileRevision(s).
func noSuchFile(path string) *rpc.Fault {
	return handlerFault(1022, "Could not find configuration file with filePath=: "+path)
}

func configChannelExists(c *call) (any, *rpc.Fault) {
	return boolInt(c.st.configByLabel[c.str("channelLabel")] != nil), nil
}

func configChannelGetDetails(c *call) (any, *rpc.Fault) {
	if id, ok := c.integer("configChannelId"); ok {
		for _, cc := range c.st.configs {
			if cc.id == id {
				return c.st.configChannelStruct(cc), nil
			}
		}
		// ConfigurationManager.lookupConfigChannel throws a LookupException.
		return nil, unhandled(fmt.Sprintf("Could not find config channel with id=%d", id))
	}
	cc, f := c.configArg()
	if f != nil {
		return nil, f
	}
	return c.st.configChannelStruct(cc), nil
}

// configChannelUpdate re-validates name and description (label included) with
// creation's 1021.
func configChannelUpdate(c *call) (any, *rpc.Fault) {
	cc, f := c.configArg()
	if f != nil {
		return nil, f
	}
	name, desc := c.str("name"), c.str("description")
	if f := validateConfigChannel(cc.label, name, desc); f != nil {
		return nil, f
	}
	cc.name, cc.description = name, desc
	c.st.wrote()
	return c.st.configChannelStruct(cc), nil
}

func configChannelListGlobals(c *call) (any, *rpc.Fault) {
	out := make([]any, 0, len(c.st.configs))
	for _, cc := range c.st.configs {
		ct, _ := configTypeOf(cc.typ)
		out = append(out, rpc.Struct{
			{Name: "id", Value: cc.id},
			{Name: "orgId", Value: c.st.org.id},
			{Name: "label", Value: cc.label},
			{Name: "name", Value: cc.name},
			{Name: "description", Value: cc.description},
			{Name: "type", Value: ct.label},
			{Name: "typeName", Value: ct.name},
		})
	}
	return out, nil
}

// configChannelCreateOrUpdatePath: the map is validated before the channel
// is looked up; state channels refuse directories (1233) and /init.sls
// (1213). Every call is a new revision, even with the same content
// (ConfigFileBuilder.update → makeNewRevision).
func configChannelCreateOrUpdatePath(c *call) (any, *rpc.Fault) {
	isDir, _ := c.boolean("isDir")
	data, _ := c.strct("data")
	valid := []string{"owner", "group", "permissions", "revision", "selinux_ctx"}
	if !isDir {
		valid = append(valid, "contents", "contents_enc64", "macro-start-delimiter", "macro-end-delimiter", "binary")
	}
	if f := validateMap(data, valid...); f != nil {
		return nil, f
	}
	cc, f := c.configArg()
	if f != nil {
		return nil, f
	}
	path := c.str("path")
	if cc.typ == "state" && isDir {
		return nil, handlerFault(1233, "Directories/Symlinks are not supported in state channel.")
	}
	if cc.typ == "state" && path == initSLS {
		return nil, handlerFault(1213, "Please use 'updateInitSls' method for updating init.sls file.")
	}
	rev := &configRevision{typ: "file", owner: "root", group: "root", permissions: 644}
	if isDir {
		rev.typ, rev.permissions = "directory", 755
	}
	if f := readRevisionData(rev, data); f != nil {
		return nil, f
	}
	return c.st.saveRevision(c, cc, path, rev, data)
}

// configChannelCreateOrUpdateSymlink: normal channels only (1233).
func configChannelCreateOrUpdateSymlink(c *call) (any, *rpc.Fault) {
	data, _ := c.strct("data")
	if f := validateMap(data, "target_path", "revision", "selinux_ctx"); f != nil {
		return nil, f
	}
	cc, f := c.configArg()
	if f != nil {
		return nil, f
	}
	if cc.typ == "state" {
		return nil, handlerFault(1233, "Directories/Symlinks are not supported in state channel.")
	}
	rev := &configRevision{typ: "symlink"}
	var err *rpc.Fault
	if rev.target, err = memberString(data, "target_path"); err != nil {
		return nil, err
	}
	if rev.selinux, err = memberString(data, "selinux_ctx"); err != nil {
		return nil, err
	}
	return c.st.saveRevision(c, cc, c.str("path"), rev, data)
}

// configChannelUpdateInitSls replaces /init.sls's contents; the rest is
// inherited from its latest revision.
func configChannelUpdateInitSls(c *call) (any, *rpc.Fault) {
	data, _ := c.strct("data")
	if f := validateMap(data, "contents", "contents_enc64"); f != nil {
		return nil, f
	}
	cc, f := c.configArg()
	if f != nil {
		return nil, f
	}
	if cc.typ != "state" {
		return nil, handlerFault(1233, "init.sls file can only be edited for state channels.")
	}
	contents, f := fileContents(data)
	if f != nil {
		return nil, f
	}
	rev := *cc.file(initSLS).latest()
	rev.contents, rev.revision = contents, 0
	return c.st.saveRevision(c, cc, initSLS, &rev, nil)
}

// readRevisionData fills a file or directory revision from
// createOrUpdatePath's data, as XmlRpcConfigChannelHelper does.
func readRevisionData(rev *configRevision, data rpc.Struct) *rpc.Fault {
	strs := []struct {
		name string
		dst  *string
	}{
		{"owner", &rev.owner}, {"group", &rev.group}, {"selinux_ctx", &rev.selinux},
		{"macro-start-delimiter", &rev.macroStart}, {"macro-end-delimiter", &rev.macroEnd},
	}
	for _, s := range strs {
		if _, ok := data.Get(s.name); !ok {
			continue
		}
		v, f := memberString(data, s.name)
		if f != nil {
			return f
		}
		*s.dst = v
	}
	if rev.typ == "file" {
		if rev.macroStart == "" {
			rev.macroStart, rev.macroEnd = "{|", "|}"
		}
		if v, ok := data.Get("binary"); ok {
			b, ok := v.(bool)
			if !ok {
				return castFault(v, "java.lang.Boolean")
			}
			rev.binary = b
		}
		var f *rpc.Fault
		if rev.binary {
			// A binary file's contents are always base64.
			data = append(slices.Clone(data), rpc.Member{Name: "contents_enc64", Value: true})
		}
		if rev.contents, f = fileContents(data); f != nil {
			return f
		}
	}
	if _, ok := data.Get("permissions"); ok {
		p, f := memberString(data, "permissions")
		if f != nil {
			return f
		}
		n, err := strconv.ParseInt(p, 8, 64)
		if err != nil || n > 0o7777 {
			return handlerFault(1023, "Following errors were encountered when creating the config file.\nERRORS:\nInvalid permissions: "+p+"\n")
		}
		rev.permissions, _ = strconv.ParseInt(p, 10, 64)
	}
	return nil
}

// saveRevision adds rev as path's next revision: an explicit "revision" must
// exceed the latest, and a path keeps its type (1023).
func (st *state) saveRevision(c *call, cc *configChannel, path string, rev *configRevision, data rpc.Struct) (any, *rpc.Fault) {
	if !strings.HasPrefix(path, "/") {
		return nil, configFileFault("Path must be absolute: " + path)
	}
	old := cc.file(path)
	if old != nil && old.latest().typ != rev.typ {
		return nil, configFileFault(fmt.Sprintf("The file %s is a %s and cannot be changed to a %s.", path, old.latest().typ, rev.typ))
	}
	if v, ok := data.Get("revision"); ok {
		n, ok := v.(int64)
		if !ok {
			return nil, castFault(v, "java.lang.Integer")
		}
		if old != nil && n <= old.latest().revision {
			return nil, configFileFault(fmt.Sprintf("Revision %d is not newer than the latest revision %d.", n, old.latest().revision))
		}
		rev.revision = n
	}
	return st.revisionStruct(cc, path, st.addRevision(cc, path, rev, c.now()), false), nil
}

func configFileFault(msg string) *rpc.Fault {
	return handlerFault(1023, "Following errors were encountered when creating the config file.\nERRORS:\n"+msg+"\n")
}

// addRevision appends rev to path (created if new) and returns it.
func (st *state) addRevision(cc *configChannel, path string, rev *configRevision, now time.Time) *configRevision {
	f := cc.file(path)
	rev.created, rev.modified = now, now
	if f == nil {
		f = &configFile{path: path}
		cc.files = append(cc.files, f)
		if rev.revision == 0 {
			rev.revision = 1
		}
	} else {
		if rev.revision == 0 {
			rev.revision = f.latest().revision + 1
		}
		rev.created = f.revisions[0].created
	}
	st.nextID++
	rev.id = st.nextID
	f.revisions = append(f.revisions, rev)
	st.wrote()
	return rev
}

// fileContents reads "contents", base64-decoded when "contents_enc64" is
// true. A plain string has lost its surrounding whitespace already (all
// request strings are trimmed): only base64 keeps a final newline.
func fileContents(data rpc.Struct) ([]byte, *rpc.Fault) {
	contents, f := memberString(data, "contents")
	if f != nil {
		return nil, f
	}
	if enc, _ := data.Get("contents_enc64"); enc == true {
		b, err := base64.StdEncoding.DecodeString(contents)
		if err != nil {
			return nil, configFileFault("contents are not valid base64")
		}
		return b, nil
	}
	return []byte(contents), nil
}

// revisionStruct is ConfigRevisionSerializer: "channel" is the channel's
// name, permissions_mode has at least 3 digits, binary contents (or any,
// for getEncodedFileRevision) go base64.
func (st *state) revisionStruct(cc *configChannel, path string, r *configRevision, encoded bool) rpc.Struct {
	s := rpc.Struct{
		{Name: "type", Value: r.typ},
		{Name: "path", Value: path},
		{Name: "revision", Value: r.revision},
		{Name: "creation", Value: r.created},
		{Name: "modified", Value: r.modified},
		{Name: "selinux_ctx", Value: r.selinux},
	}
	if r.typ == "symlink" {
		s = append(s, rpc.Member{Name: "target_path", Value: r.target})
	} else {
		s = append(s,
			rpc.Member{Name: "owner", Value: r.owner},
			rpc.Member{Name: "group", Value: r.group},
			rpc.Member{Name: "permissions", Value: r.permissions},
			rpc.Member{Name: "permissions_mode", Value: fmt.Sprintf("%03d", r.permissions)},
		)
	}
	if r.typ == "file" || r.typ == "sls" {
		s = append(s,
			rpc.Member{Name: "binary", Value: r.binary},
			rpc.Member{Name: "sha256", Value: sha256Hex(r.contents)},
		)
		if encoded || r.binary {
			s = append(s, rpc.Member{Name: "contents", Value: base64.StdEncoding.EncodeToString(r.contents)},
				rpc.Member{Name: "contents_enc64", Value: true})
		} else {
			s = append(s, rpc.Member{Name: "contents", Value: string(r.contents)},
				rpc.Member{Name: "contents_enc64", Value: false})
		}
		if !r.binary {
			s = append(s,
				rpc.Member{Name: "macro-start-delimiter", Value: r.macroStart},
				rpc.Member{Name: "macro-end-delimiter", Value: r.macroEnd})
		}
	}
	return append(s, rpc.Member{Name: "channel", Value: cc.name})
}

func sha256Hex(b []byte) string {
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}

func configChannelListFiles(c *call) (any, *rpc.Fault) {
	cc, f := c.configArg()
	if f != nil {
		return nil, f
	}
	out := make([]any, len(cc.files))
	for i, file := range cc.files {
		out[i] = rpc.Struct{
			{Name: "type", Value: file.latest().typ},
			{Name: "path", Value: file.path},
			{Name: "last_modified", Value: file.latest().modified},
		}
	}
	return out, nil
}

// configChannelLookupFileInfo: one missing path faults the whole call
// (-1029). The 3-parameter overload finds one revision (-1028 when absent).
func configChannelLookupFileInfo(c *call) (any, *rpc.Fault) {
	cc, f := c.configArg()
	if f != nil {
		return nil, f
	}
	if want, ok := c.integer("revision"); ok {
		path := c.str("path")
		file := cc.file(path)
		if file == nil {
			return nil, noSuchPath(path, cc.label)
		}
		if r := find(file.revisions, func(r *configRevision) bool { return r.revision == want }); r != nil {
			return c.st.revisionStruct(cc, path, r, false), nil
		}
		return nil, handlerFault(-1028, "No such config revision")
	}
	paths, f := stringList(c.list("paths"))
	if f != nil {
		return nil, f
	}
	out := make([]any, 0, len(paths))
	for _, p := range paths {
		file := cc.file(p)
		if file == nil {
			return nil, noSuchPath(p, cc.label)
		}
		out = append(out, c.st.revisionStruct(cc, p, file.latest(), false))
	}
	return out, nil
}

// fileArg is getFileRevision(s)' lookup of channel and filePath (1022).
func (c *call) fileArg() (*configChannel, *configFile, *rpc.Fault) {
	cc, f := c.configArg()
	if f != nil {
		return nil, nil, f
	}
	path := c.str("filePath")
	file := cc.file(path)
	if file == nil {
		return nil, nil, noSuchFile(path)
	}
	return cc, file, nil
}

func configChannelGetFileRevisions(c *call) (any, *rpc.Fault) {
	cc, file, f := c.fileArg()
	if f != nil {
		return nil, f
	}
	out := make([]any, len(file.revisions))
	for i, r := range file.revisions {
		out[i] = c.st.revisionStruct(cc, file.path, r, false)
	}
	return out, nil
}

// configChannelGetFileRevision also serves getEncodedFileRevision (encoded).
func configChannelGetFileRevision(encoded bool) func(c *call) (any, *rpc.Fault) {
	return func(c *call) (any, *rpc.Fault) {
		cc, file, f := c.fileArg()
		if f != nil {
			return nil, f
		}
		want, _ := c.integer("revision")
		if r := find(file.revisions, func(r *configRevision) bool { return r.revision == want }); r != nil {
			return c.st.revisionStruct(cc, file.path, r, encoded), nil
		}
		// lookupConfigRevisionByRevId finds nothing and the serializer is
		// handed null: Uyuni answers an unhandled exception.
		return nil, unhandled("null")
	}
}

// configChannelDeleteFiles: every path must exist (-1029), then all go.
func configChannelDeleteFiles(c *call) (any, *rpc.Fault) {
	cc, f := c.configArg()
	if f != nil {
		return nil, f
	}
	paths, f := stringList(c.list("paths"))
	if f != nil {
		return nil, f
	}
	for _, p := range paths {
		if cc.file(p) == nil {
			return nil, noSuchPath(p, cc.label)
		}
	}
	cc.files = slices.DeleteFunc(cc.files, func(f *configFile) bool { return slices.Contains(paths, f.path) })
	c.st.wrote()
	return 1, nil
}

// subscribers are the systems subscribed to a config channel, directly
// (system.config.addChannels) or, in the simulator, not at all otherwise.
func (st *state) subscribers(label string) []system {
	var out []system
	for _, s := range st.systems {
		if slices.Contains(st.sysConfig[s.id], label) {
			out = append(out, s)
		}
	}
	return out
}

func configChannelListSubscribedSystems(c *call) (any, *rpc.Fault) {
	cc, f := c.configArg()
	if f != nil {
		return nil, f
	}
	subs := c.st.subscribers(cc.label)
	out := make([]any, len(subs))
	for i, s := range subs {
		out[i] = rpc.Struct{{Name: "id", Value: s.id}, {Name: "name", Value: s.name}}
	}
	return out, nil
}

// configChannelDeployAllSystems schedules a config deploy action for each
// of the channel's subscribers and answers 1, never an action id. State channels
// are applied with system.config.scheduleApplyConfigChannel instead (1213).
// An unknown filePath: lookupConfigFile returns null and .getId() throws a
// NullPointerException.
func configChannelDeployAllSystems(c *call) (any, *rpc.Fault) {
	cc, f := c.configArg()
	if f != nil {
		return nil, f
	}
	if cc.typ == "state" {
		return nil, handlerFault(1213, "State channels can be applied through system.config.scheduleApplyConfigChannel method or from UI.")
	}
	if _, ok := c.arg("filePath"); ok && cc.file(c.str("filePath")) == nil {
		return nil, unhandled("null")
	}
	earliest := c.now()
	if v, ok := c.arg("date"); ok {
		earliest, _ = v.(time.Time)
	}
	// ConfigurationManager.deployConfiguration: one action per system,
	// dated as given, and none for a system the channel has no files for
	// ("No files exists for ... --skipping").
	if len(cc.files) > 0 {
		for _, s := range c.st.subscribers(cc.label) {
			c.st.schedule(c, "Deploy config files to system", "Deploy config files to system", earliest, []system{s})
		}
	}
	return 1, nil
}
