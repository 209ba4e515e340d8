# The test command: `make test` runs every check CI runs, on a fresh machine.
STATICCHECK_VERSION := v0.8.2
GOBIN ?= $(shell go env GOPATH)/bin

.PHONY: test setup check unit build

test: setup check unit

# setup installs what the tests need and is a no-op when it is all there.
setup:
	./.ci/setup

check:
	@out=$$(gofmt -l $$(git ls-files '*.go')); if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi
	go vet ./...
	GOOS=darwin go vet ./tailer/...
	$(GOBIN)/staticcheck ./...

# The tailer's tests run twice: with the inotify watcher Linux uses, and
# with fsnotify's, which other systems use.
unit:
	go test -race -count=1 -timeout 20m ./...
	SKIFF_TEST_WATCHER=fsnotify go test -race -count=1 -timeout 10m ./tailer
	go test -count=1 -run '$(ALLOC_TESTS)' ./enrich/... ./sinks/cloudwatch ./tailer/journal ./tailer/multiline

# The allocation counts run once more without the race detector, which
# makes sync.Pool drop items (the zstd decoder's buffers, regexp's state).
ALLOC_TESTS := Alloc|TestPassThroughWithoutStages|TestRedactNoMatch|TestStepDoesNotAllocate

build:
	CGO_ENABLED=0 go build -trimpath -o bin/ ./cmd/...
