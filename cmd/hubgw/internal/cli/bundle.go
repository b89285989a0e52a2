package cli

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"

	"github.com/hubgw/hubgw/gateway/desired"
)

// bundle is the documents of plan and apply as read from -f files: the
// gateway never reads the client's files, so sources are inlined here.
type bundle struct {
	docs  []any
	files []bundleFile
}

// bundleFile is one -f file and the documents it gave (docs[first:first+n]).
type bundleFile struct {
	name     string
	first, n int
}

// readBundle reads each file (YAML with ---, or JSON; "-" is standard
// input, its sources read from the working directory), inlines each
// config file's source from the file's directory, and validates the
// whole with the gateway's own rules, so an invalid bundle is one error
// listing every problem by file before anything is sent.
func readBundle(stdin io.Reader, names []string) (*bundle, error) {
	if len(names) == 0 {
		return nil, usageError(errors.New("no documents: give -f FILE (YAML or JSON; several -f, or - for standard input)"))
	}
	b := &bundle{}
	var problems []string
	for _, name := range names {
		var data []byte
		var err error
		dir := filepath.Dir(name)
		if name == "-" {
			data, err, dir = readAll(stdin), nil, "."
		} else {
			data, err = os.ReadFile(name)
		}
		if err != nil {
			return nil, usageError(fmt.Errorf("-f %s: %w", name, err))
		}
		docs, err := desired.ParseYAML(data)
		if err == nil {
			err = desired.ReadSources(docs, os.DirFS(dir))
		}
		if ps := validationProblems(err); ps != nil {
			for _, p := range ps {
				problems = append(problems, name+": "+p)
			}
			continue
		} else if err != nil {
			return nil, fmt.Errorf("-f %s: %w", name, err)
		}
		b.files = append(b.files, bundleFile{name: name, first: len(b.docs), n: len(docs)})
		b.docs = append(b.docs, docs...)
	}
	if problems == nil {
		_, err := desired.Load(b.docs)
		problems = b.located(validationProblems(err))
		if err != nil && problems == nil {
			return nil, err
		}
	}
	if problems != nil {
		return nil, documentError(problems)
	}
	return b, nil
}

func readAll(r io.Reader) []byte {
	b, _ := io.ReadAll(r) // a failing standard input reads as empty: "no documents"
	return b
}

func validationProblems(err error) []string {
	var ve *desired.ValidationError
	if errors.As(err, &ve) {
		return ve.Problems
	}
	return nil
}

var docIndex = regexp.MustCompile(`^documents\[(\d+)\]`)

// located names each problem's file, and the document's index in it,
// for problems whose paths count documents over the whole bundle.
func (b *bundle) located(problems []string) []string {
	var out []string
	for _, p := range problems {
		if m := docIndex.FindStringSubmatch(p); m != nil {
			i, _ := strconv.Atoi(m[1])
			for _, f := range b.files {
				if i >= f.first && i < f.first+f.n {
					p = f.name + ": documents[" + strconv.Itoa(i-f.first) + "]" + p[len(m[0]):]
					break
				}
			}
		}
		out = append(out, p)
	}
	return out
}

// documentError is an invalid bundle: every problem, one per line.
func documentError(problems []string) error {
	if len(problems) == 1 {
		return usageError(errors.New("invalid documents: " + problems[0]))
	}
	return usageError(fmt.Errorf("invalid documents, %d problems:\n  %s", len(problems), strings.Join(problems, "\n  ")))
}
