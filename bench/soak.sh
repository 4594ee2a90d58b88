#!/usr/bin/env bash
# Soak: many concurrent streams through HarmonyProxy against the simulator with random faults
# (503s, resets, mid-stream errors, stalls) for a few minutes. Reports requests, clean
# completions, watchdog endings, errors, upstream streams left open (must be 0) and the
# proxy's memory at start and end. The proxy runs with the Dockerfile's runtime switch.
# Loopback only; bounded in time.
#   bench/soak.sh [seconds=120] [concurrency=20] [fault-rate=0.3]
set -euo pipefail
cd "$(dirname "$0")/.."
DURATION=${1:-120}
CONCURRENCY=${2:-20}
FAULT_RATE=${3:-0.3}
SIM=127.0.0.1:18090
PROXY=127.0.0.1:18091
work=$(mktemp -d)

dotnet build -c Release tools/LlamaServerSim/LlamaServerSim.csproj -v quiet -nologo >/dev/null
dotnet build -c Release src/HarmonyProxy/HarmonyProxy.csproj -v quiet -nologo >/dev/null

pids=()
cleanup() { kill "${pids[@]}" 2>/dev/null || true; rm -rf "$work"; }
trap cleanup EXIT INT TERM

dotnet tools/LlamaServerSim/bin/Release/net10.0/LlamaServerSim.dll --urls "http://$SIM" --tokens-per-second 100 --fault-rate "$FAULT_RATE" >"$work/sim.log" 2>&1 &
pids+=($!)
UPSTREAM_BASE_URL="http://$SIM/v1" ASPNETCORE_URLS="http://$PROXY" READ_TIMEOUT=2 NO_FINAL_TIMEOUT=30 \
  MAX_RETRIES=2 RETRY_BACKOFF_SECONDS=0.05 LOG_LEVEL=ERROR HarmonyProxy__Upstream__KeepAlive=00:00:01 \
  HarmonyProxy__Upstream__MaxConcurrentRequests=64 HarmonyProxy__Upstream__CircuitBreakerFailureRatio=1 \
  HarmonyProxy__Security__RequestsPerMinutePerClient=0 HarmonyProxy__Security__ConcurrentRequestsPerClient=0 \
  DOTNET_SYSTEM_NET_SOCKETS_INLINE_COMPLETIONS=1 \
  dotnet src/HarmonyProxy/bin/Release/net10.0/HarmonyProxy.dll >"$work/proxy.log" 2>&1 &
proxy_pid=$!
pids+=($proxy_pid)
for _ in $(seq 1 100); do curl -sf "http://$PROXY/v1/models" >/dev/null 2>&1 && break; sleep 0.1; done

rss() { awk '/VmRSS/ {print $2}' "/proc/$proxy_pid/status"; }
rss_start=$(rss)
deadline=$(( $(date +%s) + DURATION ))

worker() {
  local n=0
  while [ "$(date +%s)" -lt "$deadline" ]; do
    n=$((n + 1))
    local out="$work/w$1-$n"
    code=$(curl -s -o "$out" -w '%{http_code}' --max-time 60 "http://$PROXY/v1/chat/completions" \
      -H 'Content-Type: application/json' \
      -d '{"model":"gpt-oss-20b","stream":true,"messages":[{"role":"user","content":"hi"}]}' || echo 000)
    if [ "$code" != 200 ]; then echo error_http_$code
    elif grep -q '"finish_reason":"length"' "$out"; then echo watchdog
    elif grep -q '^data: {"error"' "$out"; then echo error_event
    elif grep -q '"finish_reason":"stop"' "$out" && tail -c 20 "$out" | grep -q 'data: \[DONE\]'; then echo clean
    else echo malformed; fi
    rm -f "$out"
  done
}

for i in $(seq 1 "$CONCURRENCY"); do worker "$i" >"$work/result-$i" & done
wait $(jobs -p | grep -v -e "${pids[0]}" -e "$proxy_pid") 2>/dev/null || true
sleep 1
rss_end=$(rss)
stats=$(curl -s "http://$SIM/_sim/stats")

cat "$work"/result-* | sort | uniq -c | awk '{printf "  %-16s %s\n", $2, $1}' >"$work/summary"
total=$(cat "$work"/result-* | wc -l)
echo "soak: ${DURATION}s, ${CONCURRENCY} concurrent streams, fault rate ${FAULT_RATE}, $(date -u +%FT%TZ), commit $(git rev-parse --short HEAD)"
echo "requests: $total"
cat "$work/summary"
echo "simulator: $stats"
echo "proxy RSS: start ${rss_start} KB, end ${rss_end} KB"
