#!/usr/bin/env bash
# Installs, from Debian, the programs driftback's tests run for real: git (the
# CLI, git http-backend) and openssh (an SSH Git server). Go modules come from
# the Go module proxy through go.mod; nothing else is downloaded.
set -euo pipefail
need=()
command -v git >/dev/null || need+=(git)
[ -x "$(git --exec-path 2>/dev/null)/git-http-backend" ] || need+=(git)
if [ ${#need[@]} -gt 0 ]; then
  echo "install-tools: installing ${need[*]} from Debian" >&2
  if [ "$(id -u)" -ne 0 ]; then sudo=sudo; else sudo=; fi
  $sudo apt-get update -qq
  $sudo DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need[@]}" >/dev/null
fi
