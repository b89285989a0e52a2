# hubgw: everything a developer or CI runs goes through these targets.
GO      ?= go
BIN     := bin
PKGS    := ./...
FUZZTIME ?= 60s

.PHONY: all build test test-short bench fuzz lint demo clean

all: build

build:
	$(GO) build -o $(BIN)/ ./cmd/...

# All tests, race detector on. Redis- and browser-backed tests find their
# servers themselves (REDIS_URL, else a redis-server they start).
test:
	$(GO) vet $(PKGS)
	$(GO) test -race -count=1 -timeout 20m $(PKGS)

test-short:
	$(GO) test -count=1 -short $(PKGS)

# Go benchmarks (figures: see the closing notes and README).
bench:
	$(GO) test -run '^$$' -bench . -benchmem -count 1 ./adapters/... ./gateway/...

# Fuzz each target for FUZZTIME (go test -fuzz runs one target at a time).
fuzz:
	$(GO) test -run '^$$' -fuzz '^FuzzDecodeCall$$' -fuzztime $(FUZZTIME) ./adapters/xmlrpc
	$(GO) test -run '^$$' -fuzz '^FuzzDecodeResponse$$' -fuzztime $(FUZZTIME) ./adapters/xmlrpc

lint:
	@out=$$(gofmt -l $$(git ls-files '*.go')); if [ -n "$$out" ]; then echo "gofmt:"; echo "$$out"; exit 1; fi
	$(GO) vet $(PKGS)

# The gateway in front of a simulated hub with 3 peripherals, in one process.
demo:
	$(GO) run ./e2e/demo --listen 127.0.0.1:2830 --sim-listen 127.0.0.1:9000 --peripherals 3

clean:
	rm -rf $(BIN)
