# revloop: `make run` builds everything and starts the demo; `make test` runs
# everything CI checks.

GO       ?= go
BIN      := bin/revloop
VERSION  ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
LDFLAGS  := -s -w -X main.version=$(VERSION)
ARGS     ?=

.PHONY: all build run test vet staticcheck unit fuzz bench clean

all: build

build:
	$(GO) build -trimpath -ldflags "$(LDFLAGS)" -o $(BIN) ./cmd/revloop

# Generates the demo dataset into a fresh SQLite file and serves it.
# Extra flags: make run ARGS="--addr 127.0.0.1:9090 --seed 7"
run: build
	./$(BIN) demo $(ARGS)

vet:
	$(GO) vet ./...
	@test -z "$$(gofmt -l $$(git ls-files '*.go'))" || { echo "gofmt wants to change:"; gofmt -l $$(git ls-files '*.go'); exit 1; }

# staticcheck runs when it is installed (CI installs it).
staticcheck:
	@if command -v staticcheck >/dev/null 2>&1; then staticcheck ./...; \
	elif [ -x "$$($(GO) env GOPATH)/bin/staticcheck" ]; then "$$($(GO) env GOPATH)/bin/staticcheck" ./...; \
	else echo "staticcheck not installed; skipped"; fi

# Every test runs on SQLite and on a throwaway PostgreSQL cluster started
# from the system's PostgreSQL binaries (see internal/store/storetest).
unit:
	$(GO) test -count=1 -timeout 15m ./...

# Each fuzz target runs a fixed number of inputs on top of its seed corpus
# (which `unit` already runs as ordinary tests). Counts, not durations: a
# duration can expire while an input is being minimised and fail the run.
FUZZTIME ?= 20000x
FUZZ := ./internal/collect:FuzzDecode ./internal/channel:FuzzParseURL ./internal/channel:FuzzClassify \
	./internal/identity:FuzzNormalise ./internal/model:FuzzStripBidi ./internal/importer:FuzzImportCosts ./internal/importer:FuzzImportEvents ./internal/importer:FuzzImportWideRows \
	./internal/attribution:FuzzReadPaths

fuzz:
	@for t in $(FUZZ); do pkg=$${t%%:*}; fn=$${t##*:}; \
	  echo "fuzz $$fn ($$pkg, $(FUZZTIME))"; \
	  $(GO) test -run '^$$' -fuzz "^$$fn\$$" -fuzztime $(FUZZTIME) -fuzzminimizetime 200x $$pkg || exit 1; done

test: vet staticcheck build unit fuzz

bench:
	$(GO) test -run '^$$' -bench . -benchtime 1x ./...

clean:
	rm -rf bin
