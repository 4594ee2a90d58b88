#!/usr/bin/env bash
# Claude Code end to end: the real `claude -p` (npm @anthropic-ai/claude-code, pinned) against
# HarmonyProxy's /v1/messages in front of the llama-server simulator, once per upstream flavour
# (raw, stripped, parsed). The task needs two shell commands (write proof.txt, read it back) and a
# final answer; the script checks Claude Code's result, the file, and what llama-server received:
# one system message without the attribution line, the session as the affinity key, and each
# step's reasoning carried back (sealed in its thinking block's signature) on the assistant turn
# that made the call. Claude Code's non-essential traffic is off: nothing leaves loopback.
#
#   scripts/claude-e2e.sh [proxy]    (the Native AOT executable, or a HarmonyProxy.dll run with dotnet;
#                                     default: the Release build; run `dotnet build -c Release` first)
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/e2e-common.sh
e2e_init "${1:-}"

claude_version=2.1.328
claude=$(e2e_install "${CLAUDE_INSTALL_DIR:-$root/.cache/claude-$claude_version}" "@anthropic-ai/claude-code@$claude_version" claude)
"$claude" --version

port=18590
for flavour in raw stripped parsed; do
  started=$(date +%s%N)
  sim_port=$port proxy_port=$((port + 1)); port=$((port + 2))
  dir=$work/$flavour
  e2e_start "$flavour" "$sim_port" "$proxy_port" "$dir"

  set +e
  (cd "$dir/project" && HOME=$dir/home ANTHROPIC_BASE_URL=http://127.0.0.1:$proxy_port ANTHROPIC_AUTH_TOKEN=sk-local \
    ANTHROPIC_MODEL=gpt-oss-20b ANTHROPIC_SMALL_FAST_MODEL=gpt-oss-20b ANTHROPIC_DEFAULT_HAIKU_MODEL=gpt-oss-20b \
    CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC=1 DISABLE_TELEMETRY=1 DISABLE_ERROR_REPORTING=1 DISABLE_AUTOUPDATER=1 \
    CLAUDE_CODE_MAX_RETRIES=0 IS_SANDBOX=1 timeout 120 "$claude" -p --dangerously-skip-permissions --output-format json \
    --model gpt-oss-20b "Write proof.txt with the shell, read it back and tell me what it holds." \
    </dev/null >"$dir/claude.json" 2>"$dir/claude.err")
  status=$?
  set -e
  curl -sf "http://127.0.0.1:$sim_port/sim/requests" >"$dir/requests.json"
  curl -sf "http://127.0.0.1:$proxy_port/metrics" >"$dir/metrics.txt"
  if ! python3 - "$dir" "$status" <<'PY'
import json, pathlib, sys
d = pathlib.Path(sys.argv[1]); status = int(sys.argv[2])
problems = []
if status != 0: problems.append(f"claude exited with {status}")
try:
    result = json.loads((d / "claude.json").read_text())
except ValueError:
    result = {}
if result.get("is_error") is not False: problems.append(f"claude reported an error: {result.get('api_error_status')!r} {result.get('result')!r}")
if result.get("result") != "Done: proof.txt holds harmony-proxy.": problems.append(f"result: {result.get('result')!r}")
proof = d / "project" / "proof.txt"
if not proof.exists() or proof.read_text().strip() != "harmony-proxy": problems.append("proof.txt missing or wrong")
requests = json.loads((d / "requests.json").read_text())
if len(requests) != 3: problems.append(f"llama-server got {len(requests)} requests, expected 3")
steps = ["The task needs a file written. Use the shell to write proof.txt first.",
         "The file should exist now. Read it back to check its content."]
for n, request in enumerate(requests[1:], start=1):
    carried = [m.get("reasoning_content") for m in request["messages"] if m["role"] == "assistant"]
    if carried != steps[:n]: problems.append(f"request {n + 1}: assistant reasoning {carried!r}, expected {steps[:n]!r}")
systems = [[m["content"] for m in r["messages"] if m["role"] == "system"] for r in requests]
if any(len(s) != 1 for s in systems): problems.append(f"system messages per request: {[len(s) for s in systems]}, expected one each")
elif len({s[0] for s in systems}) != 1: problems.append("the system prompt differed between turns (the prompt cache would miss)")
elif "x-anthropic-billing-header" in systems[0][0]: problems.append("Claude Code's attribution line reached llama-server")
if len({r.get("prompt_cache_key") for r in requests}) != 1 or not requests[0].get("prompt_cache_key"): problems.append("the session id was not the conversation's key")
metrics = (d / "metrics.txt").read_text()
if 'harmony_proxy_requests_by_client_total{client="claude-code"} 3' not in metrics: problems.append("the proxy did not count 3 requests from the claude-code client profile")
if 'harmony_proxy_requests_total{endpoint="messages",stream="true",outcome="ok"} 3' not in metrics: problems.append("the proxy did not count 3 streamed /v1/messages requests")
if problems:
    print("\n".join(problems)); sys.exit(1)
print(f"3 streamed /v1/messages from the claude-code profile, {len(systems[0][0])} chars of system prompt identical across turns, reasoning carried on {sum(1 for r in requests for m in r['messages'] if m.get('reasoning_content'))} assistant turns")
PY
  then
    echo "claude e2e ($flavour): FAILED" >&2
    tail -20 "$dir/claude.json" "$dir/claude.err" "$dir/proxy.log" >&2 || true
    exit 1
  fi
  echo "claude e2e ($flavour): ok in $(( ($(date +%s%N) - started) / 1000000 )) ms"
done
