#!/usr/bin/env bash
# `npm run lint`: typescript-eslint with the layering rules (eslint.config.mjs), prettier's format
# (width 120), no import circles (type imports included), no tracked file that .gitignore names.
set -euo pipefail
cd "$(dirname "$0")/../.."
npx eslint .
npx prettier --check --log-level warn .
# madge exits non-zero when it finds a circle; its summary line says how many.
npx madge --circular --no-spinner --extensions ts --ts-config tsconfig.json src activities workflows infra >/tmp/madge.$$ 2>&1 \
  || { cat /tmp/madge.$$; rm -f /tmp/madge.$$; echo "import circles (see above)" >&2; exit 1; }
rm -f /tmp/madge.$$
tracked=$(git ls-files -ci --exclude-standard 2>/dev/null || true)
if [ -n "$tracked" ]; then
  echo "tracked files that .gitignore names (scratch files?): $tracked" >&2
  exit 1
fi
