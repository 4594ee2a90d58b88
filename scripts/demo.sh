#!/usr/bin/env bash
# One-command demo: the llama-server simulator (raw Harmony, 20 tokens/s) on 127.0.0.1:8080 and
# HarmonyProxy in front of it on 127.0.0.1:8081. No GPU, no model download. Ctrl+C stops both.
set -euo pipefail
cd "$(dirname "$0")/.."

SIM_PORT=${SIM_PORT:-8080}
PROXY_PORT=${PROXY_PORT:-8081}
FLAVOUR=${FLAVOUR:-raw}

dotnet build -c Release tools/LlamaServerSim/LlamaServerSim.csproj -v quiet -nologo >/dev/null
dotnet build -c Release src/HarmonyProxy/HarmonyProxy.csproj -v quiet -nologo >/dev/null

pids=()
cleanup() { kill "${pids[@]}" 2>/dev/null || true; }
trap cleanup EXIT INT TERM

dotnet run -c Release --no-build --project tools/LlamaServerSim -- \
  --urls "http://127.0.0.1:${SIM_PORT}" --flavour "$FLAVOUR" --tokens-per-second 20 --context-size 131072 &
pids+=($!)

UPSTREAM_BASE_URL="http://127.0.0.1:${SIM_PORT}/v1" ASPNETCORE_URLS="http://127.0.0.1:${PROXY_PORT}" \
  HarmonyProxy__Logging__Format=text dotnet run -c Release --no-build --project src/HarmonyProxy &
pids+=($!)

for _ in $(seq 1 50); do
  curl -sf "http://127.0.0.1:${PROXY_PORT}/v1/models" >/dev/null 2>&1 && break
  sleep 0.2
done

cat <<MSG

HarmonyProxy is listening on http://127.0.0.1:${PROXY_PORT}/v1 in front of a simulated llama-server (${FLAVOUR} flavour).
Stream a reply (reasoning arrives as reasoning_content, the answer as content):

  curl -N http://127.0.0.1:${PROXY_PORT}/v1/chat/completions -H 'Content-Type: application/json' \\
    -d '{"model":"gpt-oss-20b","stream":true,"messages":[{"role":"user","content":"Hello!"}]}'

The Responses API (what Codex speaks) streams reasoning and answer as items and events:

  curl -N http://127.0.0.1:${PROXY_PORT}/v1/responses -H 'Content-Type: application/json' \\
    -d '{"model":"gpt-oss-20b","stream":true,"input":"Hello!"}'

Try FLAVOUR=stripped or FLAVOUR=parsed, or add a "tools" array to see native tool_calls. Ctrl+C to stop.
MSG
wait
