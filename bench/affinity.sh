#!/usr/bin/env bash
# Affinity benchmark: an agent-like workload (CONVERSATIONS conversations × TURNS turns, growing
# contexts, all at once) through HarmonyProxy in front of 3 llama-server simulators that model
# per-slot prompt caching (timings.cache_n, usage cached_tokens) and prompt processing at
# PROMPT_RATE tokens/s. Three runs, each on fresh simulators: conversation affinity (the default),
# round robin (Upstream:Affinity=false), and affinity with one backend stopped mid-run.
# Reports per run: requests ok/failed (before or after output), prompt tokens, cached and
# processed tokens, cache-hit ratio, TTFT p50/p99. Loopback only.
#   bench/affinity.sh [conversations=40] [turns=8]      (SLOTS=24 per backend, PROMPT_RATE=2000 tokens/s)
set -euo pipefail
cd "$(dirname "$0")/.."
CONVERSATIONS=${1:-40}
TURNS=${2:-8}
PROMPT_RATE=${PROMPT_RATE:-2000}
SLOTS=${SLOTS:-24}
work=$(mktemp -d)
dotnet build -c Release HarmonyProxy.sln -v quiet -nologo >/dev/null
SIM="dotnet tools/LlamaServerSim/bin/Release/net10.0/LlamaServerSim.dll"
PROXY="dotnet src/HarmonyProxy/bin/Release/net10.0/HarmonyProxy.dll"
LOAD="dotnet bench/HarmonyProxy.LoadTest/bin/Release/net10.0/HarmonyProxy.LoadTest.dll"
pids=()
cleanup() { kill "${pids[@]}" 2>/dev/null || true; rm -rf "$work"; }
trap cleanup EXIT INT TERM

wait_for() { for _ in $(seq 1 150); do curl -sf "$1" >/dev/null 2>&1 && return 0; sleep 0.1; done; echo "not up: $1" >&2; return 1; }

run() {
  local label=$1 affinity=$2 stop_one=$3
  local sims=() backends=""
  for port in 18411 18412 18413; do
    $SIM --urls "http://127.0.0.1:$port" --tokens-per-second 0 --context-size 262144 --total-slots "$SLOTS" \
      --prompt-cache true --prompt-tokens-per-second "$PROMPT_RATE" >"$work/sim-$port.log" 2>&1 &
    sims+=($!); pids+=($!)
    backends+="${backends:+,}http://127.0.0.1:$port/v1"
  done
  for port in 18411 18412 18413; do wait_for "http://127.0.0.1:$port/health"; done
  UPSTREAM_BACKENDS=$backends ASPNETCORE_URLS=http://127.0.0.1:18410 HarmonyProxy__Upstream__Affinity=$affinity \
    HarmonyProxy__Upstream__BackendProbeInterval=00:00:01 HarmonyProxy__Security__ConcurrentRequestsPerClient=0 HarmonyProxy__Security__RequestsPerMinutePerClient=0 \
    LOG_LEVEL=WARNING $PROXY >"$work/proxy-$label.log" 2>&1 &
  local proxy=$!; pids+=($proxy)
  wait_for http://127.0.0.1:18410/readyz
  kill -0 "$proxy" || { echo "the proxy did not start (port 18410 taken?)" >&2; exit 1; }
  if [ "$stop_one" = yes ]; then
    # Stop the third backend once a third of the requests went through.
    ( until [ "$(curl -sf http://127.0.0.1:18410/metrics | awk '/^harmony_proxy_backend_requests_total/ {s+=$2} END {print s+0}')" -ge $((CONVERSATIONS * TURNS / 3)) ]; do sleep 0.05; done; kill "${sims[2]}" ) &
  fi
  $LOAD agents --url http://127.0.0.1:18410 --conversations "$CONVERSATIONS" --turns "$TURNS" --label "$label" || true
  if [ "$stop_one" = yes ]; then
    echo "$label: proxy moved $(curl -sf http://127.0.0.1:18410/metrics | awk '/^harmony_proxy_upstream_retries_total\{reason="another_backend"\}/ {s+=$2} END {print s+0}') requests to another backend; ejections: $(curl -sf http://127.0.0.1:18410/metrics | awk '/^harmony_proxy_backend_ejections_total/ {s+=$2} END {print s+0}')"
  fi
  kill "$proxy" "${sims[@]}" 2>/dev/null || true
  wait 2>/dev/null || true
}

echo "machine: $(nproc) cores; ${CONVERSATIONS} conversations x ${TURNS} turns; 3 backends, ${SLOTS} slots each; prompt processing ${PROMPT_RATE} tokens/s"
run affinity true no
run round-robin false no
run affinity-one-backend-stopped true yes
