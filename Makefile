# hubgw: everything a developer or CI runs goes through these targets.
GO      ?= go
BIN     := bin
PKGS    := ./...
# A count, not a duration: Go 1.26's fuzzer can end a timed run with a
# spurious "context deadline exceeded" (golang/go#75804).
FUZZTIME ?= 3000000x

# What `hubgw version` and hubgw_build_info report. A tag vX.Y.Z names the
# version; between tags it is a Go pseudo-version of the commit. The date is
# the commit's, so two builds of one commit are the same bytes.
VERSION ?= $(shell git describe --tags --match 'v[0-9]*' --dirty 2>/dev/null || echo v0.0.0-$$(TZ=UTC git log -1 --format=%cd --date=format-local:%Y%m%d%H%M%S 2>/dev/null)-$$(git rev-parse --short=12 HEAD 2>/dev/null))
COMMIT  ?= $(shell git rev-parse HEAD 2>/dev/null)
DATE    ?= $(shell git log -1 --format=%cI 2>/dev/null)
BUILDINFO := github.com/hubgw/hubgw/buildinfo
LDFLAGS := -s -w -X $(BUILDINFO).version=$(VERSION) -X $(BUILDINFO).commit=$(COMMIT) -X $(BUILDINFO).date=$(DATE)

.PHONY: all build test test-short bench soak fuzz lint demo clean swagger-ui package

all: build

build:
	$(GO) build -trimpath -ldflags "$(LDFLAGS)" -o $(BIN)/ ./cmd/...

# All tests, race detector on. Redis- and browser-backed tests find their
# servers themselves (REDIS_URL, else a redis-server they start).
test:
	$(GO) vet $(PKGS)
	$(GO) test -race -count=1 -timeout 20m $(PKGS)

test-short:
	$(GO) test -count=1 -short $(PKGS)

# Go benchmarks: the codec against kolo/xmlrpc, then load runs of the
# gateway against uyunisim (unicast against calling the peripheral
# directly, multicast to 10/100/500/1,000 peripherals), all in one run. Shared
# state: session lookup (auth), store operations (cache), cached-read hits
# (gateway/readcache), memory and Redis; job recording on a 500-peripheral
# broadcast (e2e BenchmarkJobRecording); gateway-wide ids on a 1,000-system
# listing from 100 peripherals against the servers' own (gateway BenchmarkFleetIDs);
# peak RSS of one broadcast of a 15 MiB argument to 50 peripherals against
# the argument's size, in a fresh gateway process (e2e BenchmarkBigBroadcast;
# target ≤ 4×).
# BENCH_BASE is the "before" of issue 19's table (default: 4dc7137, the
# last commit before that work; any commit or tag will do): its tree
# (git archive, nothing checked out) gives a hubgw binary that the process
# benchmarks (unicast, multicast, big broadcast) run beside this tree's,
# case by case (build=base, build=this). BENCH_BASE= skips it. Multicast
# also runs the floor (build=relay: a bare net/http relay that validates
# nothing, e2e/internal/benchrelay).
# The whole run takes about 15 minutes on 2 shared cores; the e2e runs are
# sized (-benchtime) to keep it there.
BENCH_BASE ?= 4dc7137
bench:
	$(GO) test -run '^$$' -bench . -benchmem -count 1 ./adapters/... ./gateway/...
	$(GO) test -run '^$$' -bench . -benchmem -count 1 ./openapi/...
	$(GO) test -run '^$$' -bench . -benchmem -count 1 ./auth/... ./cache/...
	@set -e; base=""; tmp=$$(mktemp -d); trap 'rm -rf "$$tmp"' EXIT; \
	if [ -n "$(BENCH_BASE)" ]; then \
		git archive $(BENCH_BASE) | tar -x -C "$$tmp"; \
		(cd "$$tmp" && $(GO) build -o "$$tmp/hubgw-base" ./cmd/hubgw); base="$$tmp/hubgw-base"; \
	fi; \
	BENCH_BASE_HUBGW="$$base" $(GO) test -run '^$$' -bench Unicast -benchtime 3000x -count 1 -timeout 30m ./e2e; \
	BENCH_BASE_HUBGW="$$base" $(GO) test -run '^$$' -bench 'Multicast|JobRecording' -benchtime 100x -count 1 -timeout 40m ./e2e; \
	$(GO) test -run '^$$' -bench 'PlanApply' -benchtime 3x -count 1 -timeout 30m ./e2e; \
	BENCH_BASE_HUBGW="$$base" $(GO) test -run '^$$' -bench 'BigBroadcast' -benchtime 1x -count 1 -timeout 30m ./e2e

# A soak run (not part of make test): a gateway process for SOAK against 20
# simulated peripherals, some faulty, slow, hanging or down, with mixed
# traffic (unicast, multicast, broadcast, REST, good and wrong logins); it
# fails if RSS, goroutines or open descriptors do not come back near where
# they began once the traffic stops (e2e TestSoak says how near and why).
SOAK ?= 10m
soak:
	E2E_SOAK=$(SOAK) $(GO) test -run '^TestSoak$$' -count 1 -v -timeout 2h ./e2e

# Fuzz each target for FUZZTIME (go test -fuzz runs one target at a time).
fuzz:
	$(GO) test -run '^$$' -fuzz '^FuzzDecodeCall$$' -fuzztime $(FUZZTIME) ./adapters/xmlrpc
	$(GO) test -run '^$$' -fuzz '^FuzzDecodeResponse$$' -fuzztime $(FUZZTIME) ./adapters/xmlrpc
	$(GO) test -run '^$$' -fuzz '^FuzzRawJSON$$' -fuzztime $(FUZZTIME) ./adapters/xmlrpc
	$(GO) test -run '^$$' -fuzz '^FuzzScanText$$' -fuzztime $(FUZZTIME) ./adapters/xmlrpc
	$(GO) test -run '^$$' -fuzz '^FuzzAppendString$$' -fuzztime $(FUZZTIME) ./gateway/jobs

lint:
	@out=$$(gofmt -l $$(git ls-files '*.go')); if [ -n "$$out" ]; then echo "gofmt:"; echo "$$out"; exit 1; fi
	$(GO) vet $(PKGS)

# The gateway in front of a simulated hub with 3 peripherals, in one process.
# PORT is the gateway's, SIM_PORT the simulated hub's (its peripherals take
# the next ones); unset, free ports are chosen and printed.
PORT     ?= 0
SIM_PORT ?= 0
demo:
	$(GO) run ./e2e/demo --listen 127.0.0.1:$(PORT) --sim-listen 127.0.0.1:$(SIM_PORT) --peripherals 3

# RPM and DEB for linux/PKG_ARCH in PKG_OUT: the binary (static), the
# systemd unit, /etc/hubgw's files, the docs. nfpm runs as a library
# (packaging/main.go), so nothing but Go is needed. packaging/package_test.go
# (part of make test) runs this and checks the packages with rpmlint,
# lintian and systemd-analyze.
PKG_ARCH ?= $(shell $(GO) env GOARCH)
PKG_OUT  ?= out
package:
	CGO_ENABLED=0 GOOS=linux GOARCH=$(PKG_ARCH) $(GO) build -trimpath -buildmode=pie -ldflags "$(LDFLAGS)" -o $(PKG_OUT)/linux_$(PKG_ARCH)/hubgw ./cmd/hubgw
	$(GO) run ./packaging -version $(VERSION) -arch $(PKG_ARCH) -bin $(PKG_OUT)/linux_$(PKG_ARCH)/hubgw -out $(PKG_OUT) -mtime $(DATE)

clean:
	rm -rf $(BIN) out

# Swagger UI for /docs, vendored: the files committed under
# openapi/swaggerui/dist come from this exact npm package (checked against
# its sha512), so `go build` never needs npm. Only what the page loads is
# kept; source map references are dropped and the default validator URL is
# replaced by null, so nothing served points outside the gateway.
SWAGGER_UI_VERSION := 5.35.0
SWAGGER_UI_SHA512  := 534eaba4cb56f55dd73c638179a993512af4674f63317e0826e00da44fc465b021c341bc0a0c2bcd4e18997927fe1d3008336c5dd19aad334d1c2dec53cc9551
SWAGGER_UI_DIR     := openapi/swaggerui/dist
SWAGGER_UI_FILES   := swagger-ui-bundle.js swagger-ui-bundle.js.LICENSE.txt swagger-ui.css favicon-16x16.png favicon-32x32.png LICENSE NOTICE

swagger-ui:
	@set -e; tmp=$$(mktemp -d); trap 'rm -rf "$$tmp"' EXIT; \
	npm pack --silent --pack-destination "$$tmp" swagger-ui-dist@$(SWAGGER_UI_VERSION) >/dev/null; \
	tgz="$$tmp/swagger-ui-dist-$(SWAGGER_UI_VERSION).tgz"; \
	echo "$(SWAGGER_UI_SHA512)  $$tgz" | sha512sum -c --quiet -; \
	tar -xzf "$$tgz" -C "$$tmp"; \
	rm -rf $(SWAGGER_UI_DIR); mkdir -p $(SWAGGER_UI_DIR); \
	for f in $(SWAGGER_UI_FILES); do cp "$$tmp/package/$$f" $(SWAGGER_UI_DIR)/; done; \
	sed -i -e 's|/\*# sourceMappingURL=[^*]*\*/||' -e '/^\/\/# sourceMappingURL=/d' $(SWAGGER_UI_DIR)/swagger-ui.css $(SWAGGER_UI_DIR)/swagger-ui-bundle.js; \
	sed -i -e 's|"https://validator.swagger.io/validator"|null|g' $(SWAGGER_UI_DIR)/swagger-ui-bundle.js; \
	echo "swagger-ui-dist $(SWAGGER_UI_VERSION) sha512-$(SWAGGER_UI_SHA512)" > $(SWAGGER_UI_DIR)/VERSION; \
	echo "swagger-ui: $(SWAGGER_UI_DIR) from swagger-ui-dist@$(SWAGGER_UI_VERSION)"
