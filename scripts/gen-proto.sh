#!/usr/bin/env bash
# Regenerates shared/rpc/generated/ from proto/. With --check, fails when the committed
# output differs from what the .proto files produce.
set -euo pipefail
cd "$(dirname "$0")/.."
out=shared/rpc/generated
gen() {
  rm -rf "$1"
  npx --no-install proto-loader-gen-types --grpcLib=@grpc/grpc-js --longs=Number --enums=String \
    --defaults --oneofs --importFileExtension=.js -I proto -O "$1" $(cd proto && ls bulwark/v1/*.proto) >/dev/null
}
if [ "${1:-}" = "--check" ]; then
  tmp=$(mktemp -d)
  trap 'rm -rf "$tmp"' EXIT
  gen "$tmp/generated"
  if ! diff -r "$tmp/generated" "$out" >/dev/null; then
    diff -r "$tmp/generated" "$out" | head -40 >&2
    echo "shared/rpc/generated/ is stale: run 'npm run gen:proto' and commit the result" >&2
    exit 1
  fi
  echo "generated gRPC types are up to date"
else
  gen "$out"
fi
