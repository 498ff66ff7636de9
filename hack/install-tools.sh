#!/usr/bin/env bash
# Installs, from Debian, the programs driftback's tests run for real: git (the
# CLI, git http-backend, git-shell) and openssh-server (sshd, an SSH Git server
# the gitsync tests start on a loopback port), and ca-certificates, whose
# certificates `make image` puts in the image. Go modules come from the Go
# module proxy through go.mod; nothing else is downloaded.
set -euo pipefail
need=()
command -v git >/dev/null || need+=(git)
[ -x "$(git --exec-path 2>/dev/null)/git-http-backend" ] || need+=(git)
[ -x /usr/sbin/sshd ] || need+=(openssh-server)
command -v ssh >/dev/null || need+=(openssh-client)
ls /usr/share/ca-certificates/mozilla/*.crt >/dev/null 2>&1 || need+=(ca-certificates)
# The race detector (make test-race) needs cgo: a C compiler and libc headers.
command -v gcc >/dev/null || need+=(gcc libc6-dev)
if [ ${#need[@]} -gt 0 ]; then
  echo "install-tools: installing ${need[*]} from Debian" >&2
  # As root (CI containers) there is no sudo, and none is needed.
  if [ "$(id -u)" -ne 0 ]; then sudo=sudo; else sudo=; fi
  $sudo apt-get update -qq
  $sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
fi
