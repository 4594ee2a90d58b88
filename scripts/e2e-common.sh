# Shared by scripts/codex-e2e.sh and scripts/claude-e2e.sh (sourced, not run): the proxy to test,
# a pinned npm client installed once, and per upstream flavour a fresh simulator with the proxy in
# front of it on loopback. The caller is at the repository's root with `set -euo pipefail`.

# e2e_init [proxy]: the Native AOT executable, or a HarmonyProxy.dll run with dotnet (default: the Release build).
e2e_init() {
  root=$(pwd)
  local proxy=${1:-$root/src/HarmonyProxy/bin/Release/net10.0/HarmonyProxy.dll}
  sim_dll=$root/tools/LlamaServerSim/bin/Release/net10.0/LlamaServerSim.dll
  test -f "$proxy" && test -f "$sim_dll" || { echo "build first: dotnet build HarmonyProxy.sln -c Release" >&2; exit 1; }
  case "$proxy" in
    *.dll) proxy_command=(dotnet "$proxy") ;;
    *) proxy_command=("$proxy") ;;
  esac
  work=$(mktemp -d)
  pids=()
  trap e2e_cleanup EXIT
}

e2e_cleanup() { for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done; rm -rf "$work"; }

wait_for() { for _ in $(seq 1 150); do curl -sf "$1" >/dev/null 2>&1 && return 0; sleep 0.1; done; echo "not up: $1" >&2; return 1; }

# e2e_install DIR PACKAGE@VERSION BIN: installs the client into DIR when missing (npm from Debian's
# packages if need be) and prints the path of its BIN.
e2e_install() {
  local dir=$1 package=$2 bin=$3
  if ! command -v npm >/dev/null 2>&1; then
    if command -v apt-get >/dev/null 2>&1 && [ "$(id -u)" = 0 ]; then
      apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends nodejs npm >/dev/null
    else
      echo "npm is required to install $package" >&2; exit 1
    fi
  fi
  if [ ! -x "$dir/node_modules/.bin/$bin" ]; then
    mkdir -p "$dir"
    npm install --prefix "$dir" --no-audit --no-fund --silent "$package" >/dev/null
  fi
  echo "$dir/node_modules/.bin/$bin"
}

# e2e_start FLAVOUR SIM_PORT PROXY_PORT DIR: the simulator in that flavour and the proxy in front
# of it (its sealing keys in DIR/keys), both answering before it returns.
e2e_start() {
  local flavour=$1 sim_port=$2 proxy_port=$3 dir=$4
  mkdir -p "$dir/home" "$dir/project"
  dotnet "$sim_dll" --urls "http://127.0.0.1:$sim_port" --flavour "$flavour" --tokens-per-second 0 --context-size 131072 >"$dir/sim.log" 2>&1 &
  pids+=($!)
  UPSTREAM_BASE_URL=http://127.0.0.1:$sim_port/v1 ASPNETCORE_URLS=http://127.0.0.1:$proxy_port \
    HarmonyProxy__Responses__KeysDirectory=$dir/keys "${proxy_command[@]}" >"$dir/proxy.log" 2>&1 &
  pids+=($!)
  wait_for "http://127.0.0.1:$sim_port/health"; wait_for "http://127.0.0.1:$proxy_port/healthz"
}
