#!/usr/bin/env bash
# Installs what Bulwark needs on a fresh Debian machine: Debian packages (as root) and the npm
# dependencies. Idempotent and quick when nothing is missing.
set -euo pipefail
cd "$(dirname "$0")/.."

# command -> Debian package
declare -A need=(
  [nats-server]=nats-server
  [qemu-img]=qemu-utils
  [qemu-storage-daemon]=qemu-system-common
  [nbdinfo]=libnbd-bin
  [nbdkit]=nbdkit
  [qemu-system-x86_64]=qemu-system-x86
  [ssh]=openssh-client
  [sshd]=openssh-server
  [virsh]=libvirt-clients
  [libvirtd]=libvirt-daemon-system
)
missing=()
for cmd in "${!need[@]}"; do
  if ! command -v "$cmd" >/dev/null 2>&1 && [ ! -x "/usr/sbin/$cmd" ] && [ ! -x "/usr/bin/$cmd" ]; then
    missing+=("${need[$cmd]}")
  fi
done
if [ ${#missing[@]} -gt 0 ]; then
  mapfile -t missing < <(printf '%s\n' "${missing[@]}" | sort -u)
  if [ "$(id -u)" -eq 0 ]; then
    echo "setup: installing Debian packages: ${missing[*]}"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  else
    echo "setup: missing Debian packages: ${missing[*]}" >&2
    echo "setup: run as root: apt-get update && apt-get install -y --no-install-recommends ${missing[*]}" >&2
    exit 1
  fi
fi

if [ ! -d node_modules ] || [ package-lock.json -nt node_modules ]; then
  echo "setup: installing npm dependencies (native modules compile from source, a few minutes)"
  npm ci --no-audit --no-fund
  touch node_modules
fi
