# parc — build, run and test. `make help` lists the targets.

GO       ?= go
BIN      ?= bin
VERSION  ?= $(shell git describe --always --dirty 2>/dev/null || echo dev)
LDFLAGS  := -s -w -X main.version=$(VERSION)
# Debian packages the tests need (external tools the tests run for real):
# clamav for the antivirus-kiosk plugin's end-to-end scan; prometheus for
# promtool (alert rules) and the real Prometheus of the metrics test;
# chromium for the web UI's browser test (chromedp).
TEST_DEBS ?= clamav prometheus chromium
# Agent plugins, one binary each: parc-plugin-<name> from plugins/<name>.
PLUGINS  := avkiosk peripherals remotesupport software updates
# Platforms the agent and its plugins are built for.
CROSS    := linux/amd64 linux/arm64 windows/amd64 darwin/arm64
# Time per fuzzer: `make fuzz` digs, `make test` only checks the seeds'
# neighbourhood. Every func FuzzXxx in the tree is found by .ci/fuzz-all.
FUZZTIME      ?= 60s
FUZZTIME_TEST ?= 5s

.DEFAULT_GOAL := help
.PHONY: help build run run-cluster clean-run test test-deps lint bench bench-scale cross fuzz clean agent-size

help: ## list the targets
	@awk 'BEGIN {FS = ":.*## "} /^[a-zA-Z_-]+:.*## / {printf "  %-12s %s\n", $$1, $$2}' $(MAKEFILE_LIST)

# Static binaries (no cgo): they run on any Linux, and the agent's resident
# set is smaller without libc.
build: ## build every binary into bin/
	CGO_ENABLED=0 $(GO) build -ldflags "$(LDFLAGS)" -o $(BIN)/ ./agent/cmd/... ./controlplane/cmd/...
	@for p in $(PLUGINS); do CGO_ENABLED=0 $(GO) build -ldflags "$(LDFLAGS)" -o $(BIN)/parc-plugin-$$p ./plugins/$$p || exit 1; done

cross: ## build the agent and its plugins for Linux, Windows and macOS into dist/
	@for target in $(CROSS); do \
	  os=$${target%/*}; arch=$${target#*/}; ext=; [ $$os = windows ] && ext=.exe; out=dist/$$os-$$arch; \
	  echo "cross: $$out"; \
	  CGO_ENABLED=0 GOOS=$$os GOARCH=$$arch $(GO) build -ldflags "$(LDFLAGS)" -o $$out/parc-agent$$ext ./agent/cmd/parc-agent || exit 1; \
	  for p in $(PLUGINS); do \
	    CGO_ENABLED=0 GOOS=$$os GOARCH=$$arch $(GO) build -ldflags "$(LDFLAGS)" -o $$out/parc-plugin-$$p$$ext ./plugins/$$p || exit 1; \
	  done; \
	done

agent-size: build ## measure the agent's steady RSS and CPU per collection cycle (ps, against a local server)
	BIN=$(BIN) ./deploy/local/agent-size.sh

run: build ## start parc-server (embedded etcd) and a local agent; Ctrl-C stops both
	BIN=$(BIN) ./deploy/local/run.sh

run-cluster: build ## start three parc-servers on 127.0.0.1 as one embedded etcd cluster (docs/scaling.md); Ctrl-C stops them
	BIN=$(BIN) ./deploy/local/cluster.sh

clean-run: ## forget the local run's data (.run/)
	rm -rf .run

test-deps: ## install the Debian packages the tests need, if missing
	@./.ci/install-debs $(TEST_DEBS)

test: test-deps lint cross alerts ## lint, cross-build the agent, check the alert rules, run every test, then every fuzzer for FUZZTIME_TEST
	$(GO) test -count=1 -timeout 15m ./...
	GO=$(GO) FUZZTIME=$(FUZZTIME_TEST) ./.ci/fuzz-all

lint: ## gofmt and go vet
	@out=$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go')); \
	if [ -n "$$out" ]; then echo "gofmt would change:"; echo "$$out"; exit 1; fi
	$(GO) vet ./...

.PHONY: alerts
alerts: ## check and unit-test the Prometheus rules of deploy/prometheus with promtool
	cd deploy/prometheus && promtool check rules parc-alerts.yml parc-thresholds.yml && \
	  promtool test rules parc-alerts.test.yml && promtool check config --syntax-only prometheus.yml

fuzz: ## run every fuzzer for FUZZTIME each (default 60s)
	GO=$(GO) FUZZTIME=$(FUZZTIME) ./.ci/fuzz-all

bench: ## run the Go benchmarks
	$(GO) test -run '^$$' -bench . -benchmem ./...

# BENCH_DURATION (per phase, default 20s), BENCH_AGENTS (2000) and
# BENCH_UNITS (100000; 0 skips the size phase) shorten or lengthen the run.
bench-scale: ## measure check-ins/s against raw etcd, p99 at half rate, bytes and RSS per unit; figures in bench-results/
	CGO_ENABLED=0 $(GO) build -o $(BIN)/ ./controlplane/cmd/parc-bench
	$(BIN)/parc-bench --out bench-results

clean: ## remove built binaries
	rm -rf $(BIN) dist
