# parc — build, run and test. `make help` lists the targets.

GO       ?= go
BIN      ?= bin
VERSION  ?= $(shell git describe --always --dirty 2>/dev/null || echo dev)
LDFLAGS  := -s -w -X main.version=$(VERSION)
# Debian packages the tests need (external tools the tests run for real).
TEST_DEBS ?=
# Time per fuzzer: `make fuzz` digs, `make test` only checks the seeds'
# neighbourhood. Every func FuzzXxx in the tree is found by .ci/fuzz-all.
FUZZTIME      ?= 60s
FUZZTIME_TEST ?= 5s

.DEFAULT_GOAL := help
.PHONY: help build run clean-run test test-deps lint bench cross fuzz clean

help: ## list the targets
	@awk 'BEGIN {FS = ":.*## "} /^[a-zA-Z_-]+:.*## / {printf "  %-12s %s\n", $$1, $$2}' $(MAKEFILE_LIST)

build: ## build every binary into bin/
	$(GO) build -ldflags "$(LDFLAGS)" -o $(BIN)/ ./agent/cmd/... ./controlplane/cmd/...

run: build ## start parc-server (embedded etcd) and a local agent; Ctrl-C stops both
	BIN=$(BIN) ./deploy/local/run.sh

clean-run: ## forget the local run's data (.run/)
	rm -rf .run

test-deps: ## install the Debian packages the tests need, if missing
	@./.ci/install-debs $(TEST_DEBS)

test: test-deps lint ## lint, then every test, then every fuzzer for FUZZTIME_TEST
	$(GO) test -count=1 -timeout 15m ./...
	GO=$(GO) FUZZTIME=$(FUZZTIME_TEST) ./.ci/fuzz-all

lint: ## gofmt and go vet
	@out=$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go')); \
	if [ -n "$$out" ]; then echo "gofmt would change:"; echo "$$out"; exit 1; fi
	$(GO) vet ./...

fuzz: ## run every fuzzer for FUZZTIME each (default 60s)
	GO=$(GO) FUZZTIME=$(FUZZTIME) ./.ci/fuzz-all

bench: ## run the Go benchmarks
	$(GO) test -run '^$$' -bench . -benchmem ./...

clean: ## remove built binaries
	rm -rf $(BIN) dist
