#!/usr/bin/env bash
# Codex end to end: the real `codex exec` (npm @openai/codex, pinned) against HarmonyProxy in
# front of the llama-server simulator, once per upstream flavour (raw, stripped, parsed). The task
# needs two shell commands (write proof.txt, read it back) and a final answer; the script checks
# Codex's last message, the file, and what llama-server received: each step's reasoning carried
# back on the assistant turn that made the call.
#
#   scripts/codex-e2e.sh [proxy]     (the Native AOT executable, or a HarmonyProxy.dll run with dotnet;
#                                     default: the Release build; run `dotnet build -c Release` first)
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/e2e-common.sh
e2e_init "${1:-}"

codex_version=0.171.0
codex=$(e2e_install "${CODEX_INSTALL_DIR:-$root/.cache/codex-$codex_version}" "@openai/codex@$codex_version" codex)
"$codex" --version

port=18290
for flavour in raw stripped parsed; do
  started=$(date +%s%N)
  sim_port=$port proxy_port=$((port + 1)); port=$((port + 2))
  dir=$work/$flavour
  e2e_start "$flavour" "$sim_port" "$proxy_port" "$dir"

  cat >"$dir/home/config.toml" <<TOML
model = "gpt-oss-20b"
model_provider = "harmony"
approval_policy = "never"
sandbox_mode = "workspace-write"

[model_providers.harmony]
name = "HarmonyProxy"
base_url = "http://127.0.0.1:$proxy_port/v1"
wire_api = "responses"
env_key = "HARMONY_PROXY_KEY"
request_max_retries = 0
stream_max_retries = 0
TOML
  set +e
  HARMONY_PROXY_KEY=sk-local CODEX_HOME=$dir/home timeout 120 "$codex" exec --json --skip-git-repo-check \
    -C "$dir/project" -o "$dir/last-message.txt" "Write proof.txt with the shell, read it back and tell me what it holds." \
    </dev/null >"$dir/codex.jsonl" 2>"$dir/codex.err"
  status=$?
  set -e
  curl -sf "http://127.0.0.1:$sim_port/sim/requests" >"$dir/requests.json"
  curl -sf "http://127.0.0.1:$proxy_port/metrics" >"$dir/metrics.txt"
  if ! python3 - "$dir" "$status" <<'PY'
import json, pathlib, sys
d = pathlib.Path(sys.argv[1]); status = int(sys.argv[2])
problems = []
if status != 0: problems.append(f"codex exited with {status}")
last = (d / "last-message.txt").read_text().strip() if (d / "last-message.txt").exists() else ""
if last != "Done: proof.txt holds harmony-proxy.": problems.append(f"last message: {last!r}")
proof = d / "project" / "proof.txt"
if not proof.exists() or proof.read_text().strip() != "harmony-proxy": problems.append("proof.txt missing or wrong")
requests = json.loads((d / "requests.json").read_text())
if len(requests) != 3: problems.append(f"llama-server got {len(requests)} requests, expected 3")
steps = ["The task needs a file written. Use the shell to write proof.txt first.",
         "The file should exist now. Read it back to check its content."]
for n, request in enumerate(requests[1:], start=1):
    carried = [m.get("reasoning_content") for m in request["messages"] if m["role"] == "assistant"]
    if carried != steps[:n]: problems.append(f"request {n + 1}: assistant reasoning {carried!r}, expected {steps[:n]!r}")
metrics = (d / "metrics.txt").read_text()
if 'harmony_proxy_requests_by_client_total{client="codex"} 3' not in metrics: problems.append("the proxy did not count 3 requests from the codex client profile")
if problems:
    print("\n".join(problems)); sys.exit(1)
print(f"3 requests from the codex profile, reasoning carried on {sum(1 for r in requests for m in r['messages'] if m.get('reasoning_content'))} assistant turns")
PY
  then
    echo "codex e2e ($flavour): FAILED" >&2
    tail -20 "$dir/codex.jsonl" "$dir/codex.err" "$dir/proxy.log" >&2 || true
    exit 1
  fi
  echo "codex e2e ($flavour): ok in $(( ($(date +%s%N) - started) / 1000000 )) ms"
done
