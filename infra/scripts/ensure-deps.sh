# Sourced by the npm scripts: install node modules when missing or stale, build when sources are
# newer than the build, and build the server binaries named in $SERVERS (infra/stack/tools.json)
# that are neither on PATH nor built yet, in the background meanwhile. On a first start it says
# first what it builds and about how long it takes. Go must be present to build the servers.
export PATH="$PATH:/usr/local/go/bin"
plan=() minutes=0 servers=()
for s in ${SERVERS:-}; do
  if ! command -v "$s" >/dev/null 2>&1 && [ ! -x ".tools/bin/$s" ]; then
    servers+=("$s")
    m=$(node -e "console.log(require('./infra/stack/tools.json')['$s'].minutes)")
    plan+=("$s from the Go module proxy (~$m min)") && minutes=$((minutes + m))
  fi
done
local_minutes=0
if [ ! -d node_modules ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  plan+=("node modules (npm ci, ~1 min)") && local_minutes=$((local_minutes + 1))
fi
if [ ! -f .tools/torch/repro_torch.node ]; then
  if [ -z "${LIBTORCH:-}" ] && [ ! -f /usr/include/ATen/ATen.h ] && ! python3 -c 'import torch' 2>/dev/null; then
    plan+=("libtorch-dev and OpenBLAS from Debian (~2 min)") && local_minutes=$((local_minutes + 2))
  fi
  plan+=("the torch addon (~1 min)") && local_minutes=$((local_minutes + 1))
fi
if [ ${#plan[@]} -gt 0 ]; then
  total=$(( minutes > local_minutes ? minutes : local_minutes ))
  meanwhile=''
  if [ ${#servers[@]} -gt 0 ]; then meanwhile='; the servers build in the background meanwhile'; fi
  printf 'first start here: building %s%s: about %s min in all\n' \
    "$(IFS=';'; echo "${plan[*]}" | sed 's/;/, /g')" "$meanwhile" "$total" >&2
fi
servers_pid=''
if [ ${#servers[@]} -gt 0 ]; then
  bash infra/scripts/build-servers.sh "${servers[@]}" &
  servers_pid=$!
fi
if [ ! -d node_modules ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  echo "installing node modules (npm ci)..." >&2
  npm ci --no-audit --no-fund >&2
fi
npx tsc -p tsconfig.json
# The torch backend's addon (libtorch); without it the other backends run, and the worker says why.
bash infra/scripts/build-torch.sh --install || echo "continuing without the torch backend" >&2
chmod +x dist/infra/cli/main.js
if [ -n "$servers_pid" ]; then
  echo "waiting for the server builds..." >&2
  wait "$servers_pid" || { echo "a server build failed (see above)" >&2; exit 1; }
fi
