# hopbudget: `make demo` and `make test` are all a fresh machine needs.
GO      ?= go
BIN     := bin/hopbudget
DEMO    := testdata/demo

.PHONY: build install demo test race bench bench-spill fuzz integration beam-test beam-build clean

build:
	$(GO) build -o $(BIN) .

# hopbudget on the PATH: into $(go env GOBIN), else $(go env GOPATH)/bin.
install:
	$(GO) install .

# The main job on the sample traces shipped in testdata/.
# check is the CI gate: the sample budget fails on purpose, so its exit code
# (1) is shown rather than failing make.
demo: build
	./$(BIN) inspect $(DEMO)
	./$(BIN) analyze $(DEMO)
	./$(BIN) check --budget testdata/budget/demo.yaml $(DEMO); echo "check exit code: $$? (0 within budget, 1 over, 2 error)"

test:
	$(GO) vet ./...
	$(GO) test ./...
	$(MAKE) race

# The race detector over the code that runs goroutines: decoding beside
# the store stage, a decompressor's read-ahead and the progress line
# (tracefmt.Read), the per-trace workers (analyze), the OTLP receiver's
# servers, pull's concurrent fetches, and record with the command it runs. Only the tests that exercise that concurrency run: the
# race detector slows code 5-10x (all of tracefmt's tests alone took 4 min
# under it); these took 25-40 s of CPU, 1.5-2 min on the shared 2-core
# machine, once the race build is cached. TestRecordStopsCommand is left
# out: its 500 ms --duration is shorter than a child test binary built with
# -race takes to start.
race:
	$(GO) test -race -run '^TestRead' ./tracefmt/
	$(GO) test -race -run '^(TestDeterminism|TestAnalyzeStopsWhenCancelled|TestBuildProfilesMatchesBuildProfile)$$' ./analyze/
	$(GO) test -race ./receiver/ ./pull/
	$(GO) test -race -run '^(TestRecordBudget|TestRecordCommandFailureWins|TestRecordUntilCancelled|TestCancelledContextStopsEveryCommand)$$' ./cmd/

# Benchmarks generate ~1M-span inputs with ../shared/tracegen into the
# system temp folder (cached between runs), never into the repository.
# The receiver's benchmark counts spans per iteration, so it runs by time.
bench:
	$(GO) test -run '^$$' -bench . -benchtime 3x -timeout 60m ./analyze/ ./budget/ ./cmd/ ./tracefmt/
	$(GO) test -run '^$$' -bench . -benchtime 3s ./receiver/

# Bounded memory (issue 15): peak RSS and throughput of analyze in memory
# and spilled at --max-memory 1GiB on 1, 3 and 10 GB of OTLP JSON Lines
# generated into $(TMPDIR or /tmp)/hopbudget-bench-spill (kept between runs:
# ~14 GB of disk; remove it when done). SIZES="1 3" for a shorter run.
bench-spill:
	GO=$(GO) sh tools/bench-spill.sh

# A short fuzzing pass over every parser (FUZZTIME=60s for longer). New
# inputs are minimised for at most 100 runs: minimising with a time budget
# took most of a short pass (20 runs in 15 s against 27k without).
FUZZTIME ?= 20s
fuzz:
	@for pkg in ./tracefmt/ ./budget/ ./grammar/ ./receiver/ ./summary/; do \
		for t in $$($(GO) test -list '^Fuzz' $$pkg | grep '^Fuzz'); do \
			echo "== $$pkg $$t"; $(GO) test -run '^$$' -fuzz "^$$t$$" -fuzztime $(FUZZTIME) -fuzzminimizetime 100x $$pkg || exit 1; \
		done; \
	done

# Opt-in, not part of `make test`: builds a real Jaeger all-in-one (v1.75.0,
# the Jaeger v2 binary) from source in the separate tools/integration module
# (~10 min on 2 cores the first time, cached after), runs it with in-memory
# storage on free ports (tools/integration/jaeger.yaml), sends it traces with
# the OpenTelemetry Go SDK while `hopbudget record` receives the same spans,
# pulls them back over api_v3 and the internal API, and checks that both
# pulls analyse exactly as the recording does.
integration: build
	$(GO) -C tools/integration build -o $(CURDIR)/bin/jaeger github.com/jaegertracing/jaeger/cmd/jaeger
	cd tools/integration && HOPBUDGET_BIN=$(CURDIR)/$(BIN) JAEGER_BIN=$(CURDIR)/bin/jaeger $(GO) test -count=1 -v -timeout 10m .

# Opt-in, not part of `make test`: the Apache Beam pipeline, a separate
# module (beam/) so that the CLI keeps its small dependency set. Beam's
# dependency tree is large: a cold `go vet` + `go test` of the module took
# 17 min on the shared 2-core machine (40 s of downloads, 1.2 GB of module
# cache), ~1-1.5 min once cached. The tests run the pipeline on Prism, in
# process, over tracegen data (they skip without ../shared).
beam-test:
	cd beam && $(GO) vet ./... && $(GO) test ./...

beam-build:
	cd beam && $(GO) build -o ../bin/hopbudget-beam ./cmd/hopbudget-beam

clean:
	rm -rf bin
