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
	$(GOBIN)/staticcheck ./...

unit:
	go test -race -count=1 -timeout 20m ./...

build:
	CGO_ENABLED=0 go build -trimpath -o bin/ ./cmd/...
