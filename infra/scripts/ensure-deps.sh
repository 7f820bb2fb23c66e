# Sourced by the npm scripts: install node modules when missing or stale, build when sources
# are newer than the build. Go must be present to build the servers (see README).
export PATH="$PATH:/usr/local/go/bin"
if [ ! -d node_modules ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  echo "installing node modules (npm ci)..." >&2
  npm ci --no-audit --no-fund >&2
fi
npx tsc -p tsconfig.json
# The torch backend's addon (libtorch); without it the other backends run, and the worker says why.
bash infra/scripts/build-torch.sh --install || echo "continuing without the torch backend" >&2
chmod +x dist/infra/cli/main.js
