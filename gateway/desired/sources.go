package desired

import (
	"fmt"
	"io/fs"
	"path"
	"strings"
)

// ReadSources replaces each config file's `source` (a file next to the
// document) with its `content`, read from dir: what a command-line client
// does before sending documents, since the gateway never reads the
// client's files. Every unreadable source is listed.
func ReadSources(docs []any, dir fs.FS) error {
	v := &checker{}
	for i, d := range docs {
		m, _ := d.(map[string]any)
		spec, _ := m["spec"].(map[string]any)
		files, _ := spec["files"].([]any)
		for j, f := range files {
			fm, _ := f.(map[string]any)
			src, ok := fm["source"].(string)
			if !ok {
				continue
			}
			p := fmt.Sprintf("documents[%d].spec.files[%d].source", i, j)
			name := path.Clean(strings.TrimPrefix(src, "./"))
			b, err := fs.ReadFile(dir, name)
			if err != nil {
				v.add(p, fmt.Sprintf("%q cannot be read: %v", src, err))
				continue
			}
			delete(fm, "source")
			fm["content"] = string(b)
		}
	}
	if len(v.problems) > 0 {
		return &ValidationError{Problems: v.problems}
	}
	return nil
}
