#!/usr/bin/env bash
# npm test: generated types, typecheck, lint, then node's test runner over an explicit file list
# (node's runner silently runs nothing without one). `test.sh unit` runs only the unit tests.
set -euo pipefail
cd "$(dirname "$0")/.."
if [ "${1:-}" != "unit" ]; then
  bash scripts/gen-proto.sh --check
  npx --no-install tsc --noEmit -p tsconfig.json
  echo "typecheck: ok"
  npx --no-install eslint --max-warnings 0 .
  echo "lint: ok"
fi
mapfile -t unit < <(find shared controller node-agent storage -name '*.test.ts' -not -path '*/node_modules/*' | sort)
files=("${unit[@]}")
if [ "${1:-}" != "unit" ]; then
  mapfile -t scenarios < <(find test -name '*.test.ts' | sort)
  files+=("${scenarios[@]}")
fi
echo "running ${#files[@]} test files"
exec node --import tsx --test --test-reporter=spec --test-concurrency=1 "${files[@]}"
