#!/usr/bin/env bash
# The GC settings compared on the shipped build (the Native AOT executable), one after another in
# one session, each with bench/load.sh (direct, nginx and HarmonyProxy interleaved; WARMUP warm-up
# runs, ROUNDS measured rounds, medians): CPU per 1,000 tokens against nginx's, added p50 and p99,
# peak RSS. PROXY_MEMORY_LIMIT=256M runs each inside a real memory cgroup (see bench/load.sh).
#   bench/gc-compare.sh [streams=200] [tokens=200] [config ...]
# A config is one of the names below; all of them when none is named. Raw outputs go to OUT
# (bench/results/gc-<date>/ by default), one file per config.
set -euo pipefail
cd "$(dirname "$0")/.."
STREAMS=${1:-200}
TOKENS=${2:-200}
shift $(( $# > 2 ? 2 : $# ))
BIN=${PROXY_BIN:-artifacts/publish/HarmonyProxy}
OUT=${OUT:-bench/results/gc-$(date -u +%Y-%m-%d)}
mkdir -p "$OUT"
if [ ! -x "$BIN" ]; then
  dotnet publish src/HarmonyProxy/HarmonyProxy.csproj -c Release -r linux-x64 -o artifacts/publish -v quiet -nologo >/dev/null
fi

declare -A settings=(
  # What the project file ships: Server GC (with DATAS, .NET's default for it), non-concurrent.
  [server-datas]=""
  # One heap, not bound to a core: Server GC's throughput without a heap per core.
  [server-one-heap]="DOTNET_GCHeapCount=1 DOTNET_GCNoAffinitize=1"
  # Workstation, non-concurrent, with a 64 MiB gen0 budget: fewer, larger young collections.
  [workstation-gen0-64m]="DOTNET_gcServer=0 DOTNET_gcConcurrent=0 DOTNET_GCgen0size=0x4000000"
  # Server GC told to keep the heap compact (0–9; 5 compacts when fragmentation passes 50 %).
  [server-conserve]="DOTNET_GCConserveMemory=5"
)
names=("$@")
[ ${#names[@]} -gt 0 ] || names=(server-datas server-one-heap workstation-gen0-64m server-conserve)

for name in "${names[@]}"; do
  [ -n "${settings[$name]+set}" ] || { echo "unknown config: $name" >&2; exit 2; }
  file="$OUT/$name-$STREAMS${PROXY_MEMORY_LIMIT:+-$PROXY_MEMORY_LIMIT}.txt"
  PROXY_DLL="$BIN" PROXY_ENV="${settings[$name]}" WARMUP="${WARMUP:-2}" ROUNDS="${ROUNDS:-3}" \
    bench/load.sh "$STREAMS" "$TOKENS" >"$file" 2>&1 || true
  grep -q '^median harmony-proxy' "$file" || echo "$name: bench/load.sh gave no result (see $file)" >&2
  echo "== $name (${settings[$name]:-shipped}) =="
  grep -E '^median (nginx|harmony-proxy)|^cgroup|oom' "$file" || tail -3 "$file"
done
