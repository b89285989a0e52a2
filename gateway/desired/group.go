package desired

import (
	"context"
	"strings"

	"github.com/hubgw/hubgw/gateway/rpc"
)

// groupOps is SystemGroup: systemgroup.getDetails (2201 when absent),
// create, update. A blank description is stored as "none"
// (ServerGroupFactory.create); a name in use is an unhandled -1
// "... already exists".
type groupOps struct{}

const codeNoSuchGroup = 2201

func (groupOps) read(ctx context.Context, s *server, o *object) (fields, error) {
	v, err := s.call(ctx, "systemgroup.getDetails", o.Name)
	if isFault(err, codeNoSuchGroup) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	d := structOf(v)
	return fields{"description": groupDescription(str(d["description"]))}, nil
}

func groupDescription(s string) string {
	if s = strings.TrimSpace(s); s == "" {
		return "none"
	}
	return s
}

func (groupOps) create(ctx context.Context, s *server, o *object) error {
	desc, _ := o.want["description"].(string)
	s.groups = nil // the id map is read again when next needed
	_, err := s.call(ctx, "systemgroup.create", o.Name, desc)
	return err
}

func (groupOps) update(ctx context.Context, s *server, o *object, _ fields, _ []Change) error {
	_, err := s.call(ctx, "systemgroup.update", o.Name, o.want["description"])
	return err
}

func (groupOps) immutable(string, any, any) bool { return false }

func (groupOps) exists(f *rpc.Fault) bool {
	return f.Code == rpc.CodeNoSession && strings.Contains(f.String, "already exists")
}

// groupIDs maps this server's system group names to its own ids
// (systemgroup.listAllGroups), read once per server.
func (s *server) groupIDs(ctx context.Context, fresh bool) (map[string]int64, error) {
	if s.groups != nil && !fresh {
		return s.groups, nil
	}
	v, err := s.call(ctx, "systemgroup.listAllGroups")
	if err != nil {
		return nil, err
	}
	list, _ := v.([]any)
	s.groups = make(map[string]int64, len(list))
	for _, g := range list {
		m := structOf(g)
		s.groups[str(m["name"])] = num(m["id"])
	}
	return s.groups, nil
}
