#!/usr/bin/env bash
# Who allocates on the token path: the Release build of HarmonyProxy relays S streams × T tokens
# of raw Harmony from the load benchmark's upstream (a separate process, so nothing of the upstream
# is counted), and the runtime's allocation ticks are recorded for one measured round after the
# warm-up. Prints bytes and objects per relayed token by owner (the proxy, Kestrel, HttpClient,
# libraries), by type and by allocating method. Loopback only; bounded in time.
#   bench/alloc-trace.sh [streams=200] [tokens=200] [rate=50]
# PROXY_ENV="NAME=value …" adds environment for HarmonyProxy (HarmonyProxy__Inspector__Enabled=false,
# say). The proxy runs with ReadyToRun off so that every method on a stack is JIT-compiled and named.
# ROUNDS=n traces n client runs one after the other (3: more samples); PROXY_DLL=path traces another
# build (a worktree's Release build, for a before/after).
set -euo pipefail
cd "$(dirname "$0")/.."
STREAMS=${1:-200}
TOKENS=${2:-200}
RATE=${3:-50}
UP=127.0.0.1:18310
PROXY=127.0.0.1:18312
work=$(mktemp -d)
ulimit -n 65536 2>/dev/null || true

for project in bench/HarmonyProxy.LoadTest bench/HarmonyProxy.AllocTrace src/HarmonyProxy; do
  dotnet build -c Release "$project" -v quiet -nologo >/dev/null
done
LOAD="dotnet bench/HarmonyProxy.LoadTest/bin/Release/net10.0/HarmonyProxy.LoadTest.dll"
TRACE="dotnet bench/HarmonyProxy.AllocTrace/bin/Release/net10.0/HarmonyProxy.AllocTrace.dll"

pids=()
cleanup() { kill "${pids[@]}" 2>/dev/null || true; exec 3>&- 2>/dev/null || true; rm -rf "$work"; }
trap cleanup EXIT INT TERM

$LOAD upstream --urls "http://$UP" --tokens "$TOKENS" --rate "$RATE" >"$work/upstream.log" 2>&1 &
pids+=($!)
source bench/proxy-bench-env.sh
UPSTREAM_BASE_URL="http://$UP/v1" ASPNETCORE_URLS="http://$PROXY" DOTNET_ReadyToRun=0 \
  env "${PROXY_BENCH_ENV[@]}" ${PROXY_ENV:-} dotnet "${PROXY_DLL:-src/HarmonyProxy/bin/Release/net10.0/HarmonyProxy.dll}" >"$work/proxy.log" 2>&1 &
proxy_pid=$!
pids+=($proxy_pid)
for target in $UP $PROXY; do
  for _ in $(seq 1 100); do curl -sf "http://$target/v1/models" >/dev/null 2>&1 && break; sleep 0.1; done
done

allocated_bytes() { curl -sf "http://$PROXY/metrics" | awk '$1 == "harmony_proxy_allocated_bytes_total" {printf "%d", $2}'; }

# Warm-up: connection pools filled and tier-1 code reached, as in bench/load.sh.
for _ in $(seq 1 "${WARMUP:-3}"); do $LOAD client --url "http://$PROXY" --streams "$STREAMS" --label warmup >/dev/null; done

# The collector prints "tracing" once the session runs and stops when its input closes.
mkfifo "$work/stop"
$TRACE collect --pid "$proxy_pid" --out "$work/trace.nettrace" <"$work/stop" >"$work/collect.log" 2>&1 &
collector=$!
exec 3>"$work/stop"
for _ in $(seq 1 200); do grep -q tracing "$work/collect.log" && break; sleep 0.05; done
before=$(allocated_bytes)
tokens=0
lines=""
for _ in $(seq 1 "${ROUNDS:-3}"); do
  line=$($LOAD client --url "http://$PROXY" --streams "$STREAMS" --label harmony-proxy)
  lines="$lines
client: $line"
  tokens=$((tokens + $(echo "$line" | sed -n 's/.*tokens=\([0-9]*\).*/\1/p')))
done
after=$(allocated_bytes)
exec 3>&-
wait "$collector"
echo "alloc-trace: $STREAMS streams x $TOKENS tokens at $RATE tokens/s, ${ROUNDS:-3} rounds, $(nproc) cores, $(date -u +%FT%TZ), commit $(git rev-parse --short HEAD)${PROXY_DLL:+, $PROXY_DLL}${PROXY_ENV:+, $PROXY_ENV}$lines"
$TRACE report --trace "$work/trace.nettrace" --tokens "$tokens" --bytes "$((after - before))" --top "${TOP:-25}"
