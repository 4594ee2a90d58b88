#!/usr/bin/env bash
# One store, two clients (issue 30, item 6): Bob stores a response; Alice sends five 15 MB
# Responses inputs (store: true by default); Bob then continues his response. Prints the proxy's
# RSS after each step and 5, 15 and 30 s later, and the store's eviction counters. Loopback only.
#   bench/two-clients.sh [proxy-dll-or-native-executable]
set -euo pipefail
cd "$(dirname "$0")/.."
PROXY=${1:-src/HarmonyProxy/bin/Release/net10.0/HarmonyProxy.dll}
case "$PROXY" in *.dll) run_proxy=(dotnet "$PROXY") ;; *) run_proxy=("$PROXY") ;; esac
work=$(mktemp -d)
pids=()
cleanup() { kill "${pids[@]}" 2>/dev/null || true; rm -rf "$work"; }
trap cleanup EXIT INT TERM
dotnet tools/LlamaServerSim/bin/Release/net10.0/LlamaServerSim.dll --urls http://127.0.0.1:18390 --tokens-per-second 0 --context-size 100000000 >"$work/sim.log" 2>&1 &
pids+=($!)
HarmonyProxy__Security__ApiKeys__0=sk-alice HarmonyProxy__Security__ApiKeys__1=sk-bob UPSTREAM_BASE_URL=http://127.0.0.1:18390/v1 \
  ASPNETCORE_URLS=http://127.0.0.1:18391 "${run_proxy[@]}" >"$work/proxy.log" 2>&1 &
proxy=$!
pids+=($proxy)
for _ in $(seq 1 100); do curl -sf http://127.0.0.1:18391/healthz >/dev/null 2>&1 && break; sleep 0.2; done
rss() { echo "$(( $(awk '/VmRSS/{print $2}' /proc/$proxy/status) / 1024 )) MB"; }
post() { curl -s "$@" http://127.0.0.1:18391/v1/responses -H 'Content-Type: application/json'; }
echo "RSS at start: $(rss)"
bob=$(post -H 'Authorization: Bearer sk-bob' -d '{"model":"gpt-oss-20b","input":"hi"}' | python3 -c 'import json,sys;print(json.load(sys.stdin)["id"])')
echo "RSS after Bob's response: $(rss)"
python3 -c "import json;print(json.dumps({'model':'gpt-oss-20b','input':'x'*15_000_000}))" >"$work/big.json"
for i in 1 2 3 4 5; do
  post -o /dev/null -w "alice $i: %{http_code} in %{time_total}s, " -H 'Authorization: Bearer sk-alice' --data-binary @"$work/big.json"
  echo "RSS $(rss)"
done
post -o /dev/null -w "Bob continues his response: %{http_code}\n" -H 'Authorization: Bearer sk-bob' -d "{\"model\":\"gpt-oss-20b\",\"previous_response_id\":\"$bob\",\"input\":\"more\"}"
prev=0
for s in 5 15 30; do sleep $((s - prev)); prev=$s; echo "RSS ${s} s later: $(rss)"; done
curl -s http://127.0.0.1:18391/metrics | grep '^harmony_proxy_store_evictions_total' || true
