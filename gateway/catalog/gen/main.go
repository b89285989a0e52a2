// Command gen derives gateway/catalog/catalog.json from the Uyuni API
// catalog in gateway/catalog/source, so the product embeds only what it
// needs. Run it through go generate in gateway/catalog.
package main

import (
	"flag"
	"fmt"
	"os"

	"github.com/hubgw/hubgw/gateway/catalog/internal/derive"
)

func main() {
	in := flag.String("in", "source/uyuni-api-catalog.json", "full catalog to read")
	out := flag.String("out", "catalog.json", "compact catalog to write")
	flag.Parse()
	if err := run(*in, *out); err != nil {
		fmt.Fprintln(os.Stderr, "gen:", err)
		os.Exit(1)
	}
}

func run(in, out string) error {
	src, err := os.ReadFile(in)
	if err != nil {
		return err
	}
	b, err := derive.Catalog(src)
	if err != nil {
		return fmt.Errorf("%s: %w", in, err)
	}
	return os.WriteFile(out, b, 0o644)
}
