# hubgw: everything a developer or CI runs goes through these targets.
GO      ?= go
BIN     := bin
PKGS    := ./...
# A count, not a duration: Go 1.26's fuzzer can end a timed run with a
# spurious "context deadline exceeded" (golang/go#75804).
FUZZTIME ?= 3000000x

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

# Go benchmarks: the codec against kolo/xmlrpc, then load runs of the
# gateway against uyunisim (unicast against calling the peripheral
# directly, multicast to 10/100/500 peripherals), all in one run.
bench:
	$(GO) test -run '^$$' -bench . -benchmem -count 1 ./adapters/... ./gateway/...
	$(GO) test -run '^$$' -bench . -benchtime 200x -count 1 -timeout 30m ./e2e

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
