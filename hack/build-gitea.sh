#!/usr/bin/env bash
# Builds a real Gitea server from the Go module proxy into a git-ignored cache
# folder, once, for the pull-request tests (internal/giteaserver). Only the API
# and Git over HTTP are used, so the web front-end (built with npm upstream) is
# left out; templates and locales are read from Gitea's module source, whose
# path is written next to the binary (see internal/giteaserver).
#
#   hack/build-gitea.sh            # prints the folder holding bin/gitea
#
# Version: hack/gitea/go.mod (v1.26.0, the newest code.gitea.io/gitea release
# that builds with Go 1.26; v1.27 moved to the module path gitea.dev).
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
version=$(sed -n 's/^\s*code.gitea.io\/gitea \(v[0-9.]*\).*$/\1/p; s/^require code.gitea.io\/gitea \(v[0-9.]*\).*$/\1/p' "$root/hack/gitea/go.mod" | head -n1)
[ -n "$version" ] || { echo "build-gitea: no code.gitea.io/gitea version in hack/gitea/go.mod" >&2; exit 1; }
cache=${DRIFTBACK_CACHE:-$root/.cache}
out="$cache/gitea/$version"
mkdir -p "$out"

say() { echo "build-gitea: $*" >&2; }

# Gitea's release builds use these tags; sqlite needs cgo (mattn/go-sqlite3).
tags="sqlite sqlite_unlock_notify"
if [ -x "$out/gitea" ] && [ -s "$out/source" ]; then
  say "gitea $version cached in $out"
else
  say "compiling gitea $version (first time only; several minutes on 2 cores)..."
  start=$SECONDS
  cd "$root/hack/gitea"
  CGO_ENABLED=1 go build -trimpath -tags "$tags" \
    -ldflags "-s -w -X main.Version=${version#v} -X 'main.Tags=$tags'" \
    -o "$out/gitea.tmp" code.gitea.io/gitea
  # Templates, locales and licence texts live in the module source: record where.
  (cd "$root/hack/gitea" && go list -m -f '{{.Dir}}' code.gitea.io/gitea) > "$out/source.tmp"
  mv "$out/source.tmp" "$out/source"
  mv "$out/gitea.tmp" "$out/gitea"
  say "gitea built in $((SECONDS - start))s"
fi
echo "$out"
