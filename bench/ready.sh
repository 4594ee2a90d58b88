#!/usr/bin/env bash
# Cold start: time from process start to the first 200 on /healthz, then to the end of the first
# streamed completion, against the llama-server simulator. Loopback only.
#   bench/ready.sh [publish-dir=artifacts/publish] [runs=3]
# The publish directory holds the Native AOT executable (HarmonyProxy), or a JIT build
# (HarmonyProxy.dll, run with dotnet) for comparison.
# PROXY_ENV="NAME=value …" adds environment for HarmonyProxy (runtime experiments).
set -euo pipefail
cd "$(dirname "$0")/.."
DIR=${1:-artifacts/publish}
RUNS=${2:-3}
SIM=127.0.0.1:18490
PROXY=127.0.0.1:18491
dotnet build -c Release tools/LlamaServerSim/LlamaServerSim.csproj -v quiet -nologo >/dev/null
dotnet tools/LlamaServerSim/bin/Release/net10.0/LlamaServerSim.dll --urls "http://$SIM" --tokens-per-second 0 >/dev/null 2>&1 &
sim=$!
trap 'kill $sim 2>/dev/null || true' EXIT
until curl -sf "http://$SIM/health" >/dev/null 2>&1; do sleep 0.05; done
if [ -f "$DIR/HarmonyProxy.dll" ]; then proxy_command=(dotnet "$DIR/HarmonyProxy.dll"); else proxy_command=("$DIR/HarmonyProxy"); fi
for _ in $(seq 1 "$RUNS"); do
  start=$(date +%s%N)
  env ${PROXY_ENV:-} UPSTREAM_BASE_URL="http://$SIM/v1" HarmonyProxy__Upstream__StartupReport=false \
    "${proxy_command[@]}" --urls "http://$PROXY" >/dev/null 2>&1 &
  proxy=$!
  until curl -sf "http://$PROXY/healthz" >/dev/null 2>&1; do sleep 0.005; done
  ready=$(date +%s%N)
  curl -sf "http://$PROXY/v1/chat/completions" -H 'content-type: application/json' \
    -d '{"stream":true,"messages":[{"role":"user","content":"hi"}]}' >/dev/null
  first=$(date +%s%N)
  echo "ready_ms=$(( (ready - start) / 1000000 )) first_completion_ms=$(( (first - start) / 1000000 ))"
  kill $proxy; wait $proxy 2>/dev/null || true
done
