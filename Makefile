# driftback — the two commands a newcomer needs are `make demo` and `make test`.
SHELL := /usr/bin/env bash
GO ?= go
BIN := bin/driftback
VERSION ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
# The image records the commit's time, so one commit always gives one digest.
SOURCE_DATE_EPOCH ?= $(shell git log -1 --format=%ct 2>/dev/null || echo 0)
IMAGE_PLATFORMS ?= linux/$(shell $(GO) env GOARCH)

.PHONY: all build image controlplane gitea test test-argocd test-flux test-sops test-race unit vet fuzz bench demo tools clean

all: build

# Static like the image's binary (internal/image): with cgo the binary is
# linked dynamically and exports every symbol (kustomize imports package
# plugin), which doubles the memory it starts with.
build: ## Build the driftback binary into bin/.
	CGO_ENABLED=0 $(GO) build -ldflags "-X main.version=$(VERSION)" -o $(BIN) ./cmd/driftback

image: tools ## OCI image layout in bin/image (no Docker, no base image pulled); push: docs/install.md.
	SOURCE_DATE_EPOCH=$(SOURCE_DATE_EPOCH) $(GO) run ./hack/image --version $(VERSION) \
	  --revision "$$(git rev-parse HEAD 2>/dev/null)" --platforms $(IMAGE_PLATFORMS) --out bin/image

tools: ## Install what the tests and the image need from Debian (git, openssh-server, ca-certificates), if missing.
	@bash hack/install-tools.sh

controlplane: tools ## Compile kube-apiserver, kube-controller-manager and etcd once (cached in .cache/).
	@bash hack/build-controlplane.sh >/dev/null

gitea: tools ## Compile a Gitea server once (cached in .cache/gitea/), for the pull request tests.
	@bash hack/build-gitea.sh >/dev/null

vet:
	@test -z "$$(gofmt -l $$(git ls-files '*.go'))" || { echo "gofmt needed:"; gofmt -l $$(git ls-files '*.go'); exit 1; }
	$(GO) vet ./...

test: controlplane gitea vet ## Unit and integration tests against a real control plane, real Git servers and a real Gitea.
	KUBEBUILDER_ASSETS="$$(bash hack/build-controlplane.sh 2>/dev/null)" DRIFTBACK_GITEA="$$(bash hack/build-gitea.sh 2>/dev/null)" \
	  $(GO) test -count=1 -timeout 30m ./...
	$(MAKE) --no-print-directory test-race
	$(MAKE) --no-print-directory test-argocd
	$(MAKE) --no-print-directory test-flux
	$(MAKE) --no-print-directory test-sops
	$(MAKE) --no-print-directory fuzz

# One Repo is shared by run's writer, follower, pull request syncer and
# start-up checks over go-git's unguarded in-memory storage: the race
# detector watches them side by side (a race there crashed a run).
test-race: tools ## The shared Git repository's methods side by side under the race detector.
	CGO_ENABLED=1 $(GO) test -count=1 -race -run '^TestRepoMethodsRunSideBySide$$' ./gitsync/

# Each fuzz target runs a fixed number of inputs in `make test` (go test runs
# one -fuzz target per package per invocation). A count, not a duration: on
# Go 1.26 a duration can fail a clean run with a bare "context deadline
# exceeded" when it expires (golang/go#75804, a race in internal/fuzz's
# coordinator fixed in Go 1.27); a count sets no deadline. For a real hunt:
# FUZZ_TIME=2000000x, or FUZZ_TIME=10m with GOTOOLCHAIN=go1.27.3.
FUZZ_TIME ?= 20000x
fuzz: ## Fuzz the config parser, field paths, file naming, SSH signatures, the watch cache's packed captures, the watch and list decoders and commit-message shapes, FUZZ_TIME inputs each.
	$(GO) test -run '^$$' -fuzz '^FuzzParse$$' -fuzztime=$(FUZZ_TIME) ./config/
	$(GO) test -run '^$$' -fuzz '^FuzzParsePath$$' -fuzztime=$(FUZZ_TIME) ./capture/
	$(GO) test -run '^$$' -fuzz '^FuzzPack$$' -fuzztime=$(FUZZ_TIME) ./capture/
	$(GO) test -run '^$$' -fuzz '^FuzzFileNameRoundTrip$$' -fuzztime=$(FUZZ_TIME) ./overlay/
	$(GO) test -run '^$$' -fuzz '^FuzzVerifySSH$$' -fuzztime=$(FUZZ_TIME) ./gitsync/
	$(GO) test -run '^$$' -fuzz '^FuzzWatchJSON$$' -fuzztime=$(FUZZ_TIME) ./kube/
	$(GO) test -run '^$$' -fuzz '^FuzzListJSON$$' -fuzztime=$(FUZZ_TIME) ./kube/
	$(GO) test -run '^$$' -fuzz '^FuzzShape$$' -fuzztime=$(FUZZ_TIME) ./describe/

# Argo CD's gitops-engine needs Go 1.27 and pins Kubernetes with replace lines,
# so its proof lives in a module of its own (e2e/argocd); the go command fetches
# the Go 1.27.3 toolchain from the module proxy for this module only.
test-argocd: controlplane ## The overlay synced by Argo CD's own engine rebuilds a cluster as the drill does.
	cd e2e/argocd && GOTOOLCHAIN=go1.27.3 $(GO) vet ./...
	assets="$$(bash hack/build-controlplane.sh 2>/dev/null)" && cd e2e/argocd && \
	  KUBEBUILDER_ASSETS="$$assets" GOTOOLCHAIN=go1.27.3 $(GO) test -count=1 -timeout 20m ./...

# Flux's kustomize-controller libraries (fluxcd/pkg/kustomize, fluxcd/pkg/ssa)
# at the versions kustomize-controller names; their module graph stays out of
# the product's go.mod, so their proof is a module of its own (e2e/flux), on
# the Go 1.27.3 toolchain like e2e/argocd.
test-flux: controlplane ## The overlay built and applied by Flux's own libraries rebuilds a cluster, for Flux layouts.
	cd e2e/flux && GOTOOLCHAIN=go1.27.3 $(GO) vet ./...
	assets="$$(bash hack/build-controlplane.sh 2>/dev/null)" && cd e2e/flux && \
	  KUBEBUILDER_ASSETS="$$assets" GOTOOLCHAIN=go1.27.3 $(GO) test -count=1 -timeout 20m ./...

# sops itself (github.com/getsops/sops/v3/decrypt, what Flux's
# kustomize-controller and KSOPS call) decrypts the files driftback's own
# SOPS writer produces; sops pulls every cloud's KMS SDK, so it lives in a
# module of its own (e2e/sops).
test-sops: ## sops' own decrypt package reads what driftback encrypts (encrypt: true).
	cd e2e/sops && $(GO) vet ./... && $(GO) test -count=1 ./...

unit: tools ## Only the tests that need no control plane (fast; real git http-backend and sshd).
	$(GO) test -count=1 ./capture/ ./config/ ./render/ ./gitsync/ ./describe/ ./rbac/ ./overlay/ ./writeback/ ./kube/ ./capture/live/ ./follow/ ./internal/httpserve/

bench: controlplane ## Benchmarks (memory, CPU, commit cost); see BENCHMARKS.md.
	KUBEBUILDER_ASSETS="$$(bash hack/build-controlplane.sh 2>/dev/null)" $(GO) test -run '^$$' -bench . -benchmem -timeout 120m ./...

demo: controlplane build ## The main job on an embedded control plane, end to end.
	KUBEBUILDER_ASSETS="$$(bash hack/build-controlplane.sh 2>/dev/null)" $(GO) run ./hack/demo --driftback $(BIN)

clean:
	rm -rf bin
