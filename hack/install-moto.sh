#!/usr/bin/env bash
# Installs moto, a fake AWS that answers the real AWS APIs (EC2, S3, RDS,
# IAM, ...) on a loopback port, into a virtual environment under
# ${DRIFTBACK_CACHE:-.cache}/moto, and prints the environment's python. The
# ACK tests (e2e) start it with internal/moto. Needs only python3 (with venv,
# from Debian's python3-venv when missing) and PyPI.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
cache="${DRIFTBACK_CACHE:-$root/.cache}"
venv="$cache/moto"
want="5.2.5"
py="$venv/bin/python"

usable() { "$1" -c 'import moto, moto.server, flask_cors, sys; sys.exit(0 if moto.__version__.startswith("5.") else 1)' 2>/dev/null; }

if [ -x "$py" ] && usable "$py"; then
  echo "$py"
  exit 0
fi
if [ "$(id -u)" -ne 0 ]; then sudo=sudo; else sudo=; fi
if ! command -v python3 >/dev/null || ! python3 -c 'import venv, ensurepip' 2>/dev/null; then
  echo "install-moto: installing python3 and python3-venv from Debian" >&2
  $sudo apt-get update -qq
  $sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends python3 python3-venv >/dev/null
fi
mkdir -p "$cache"
# System site packages are visible to the environment, so that a machine
# whose Python already carries moto[server] 5.x still works without PyPI;
# the pinned version installed below takes precedence when PyPI answers.
python3 -m venv --system-site-packages "$venv" >&2
echo "install-moto: pip install moto[server]==$want into $venv" >&2
if ! "$py" -m pip install --quiet --disable-pip-version-check --retries 1 --timeout 20 "moto[server]==$want" >&2; then
  if usable "$py"; then
    echo "install-moto: PyPI unreachable; using the moto $("$py" -c 'import moto; print(moto.__version__)') this Python already has" >&2
  else
    echo "install-moto: could not install moto[server]==$want from PyPI, and this Python has no moto[server] 5.x" >&2
    rm -rf "$venv"
    exit 1
  fi
fi
usable "$py" || { echo "install-moto: moto in $venv does not import" >&2; exit 1; }
echo "$py"
