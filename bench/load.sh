#!/usr/bin/env bash
# Load benchmark: N concurrent streaming clients, three ways in one run — directly to a lean
# upstream that streams raw Harmony with stamped tokens, through nginx (proxy_pass, buffering
# off, upstream keepalive) and through HarmonyProxy. Reports per way: streams ok/failed,
# per-token latency (p50/p99; added latency = way − direct), time to first token (of the burst
# of simultaneous streams, and of single requests one at a time), CPU seconds per 1,000 tokens,
# peak RSS and memory per open stream of the middle process. Loopback only; bounded in time.
#   bench/load.sh [streams=200] [tokens=200] [rate=50]
# WARMUP=n sets the number of unmeasured full-size runs per way before the measured ones (4);
# WARMUP_STREAMS=n makes each warm-up run n streams instead of the measured number (how much
# warm-up a fresh process needs); ROUNDS=n the number of measured rounds, interleaved across the ways (5); medians are reported.
# PROXY_ENV="NAME=value …" adds environment for HarmonyProxy only (runtime experiments,
# e.g. DOTNET_gcServer=0); the figures in the README were taken without it.
# PROXY_MEMORY_LIMIT=256M runs HarmonyProxy inside a real memory cgroup with that limit, as a
# container runs it: the runtime sizes its heap from the limit, and going over it is an OOM kill
# (a failed stream). The cgroup's peak usage and OOM kills are reported after the rounds.
# PROXY_DLL=path runs another build of HarmonyProxy (a ReadyToRun publish, say; or a Native AOT
# executable, which is run as it is) instead of the Release build; WARMUP=0 ROUNDS=1 then measures a cold process (cold-start CPU per token).
set -euo pipefail
cd "$(dirname "$0")/.."
STREAMS=${1:-200}
TOKENS=${2:-200}
RATE=${3:-50}
UP=127.0.0.1:18300
NGINX=127.0.0.1:18301
PROXY=127.0.0.1:18302
work=$(mktemp -d)
ulimit -n 65536 2>/dev/null || true

if ! command -v nginx >/dev/null 2>&1; then
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends nginx >/dev/null
fi
dotnet build -c Release bench/HarmonyProxy.LoadTest/HarmonyProxy.LoadTest.csproj -v quiet -nologo >/dev/null
dotnet build -c Release src/HarmonyProxy/HarmonyProxy.csproj -v quiet -nologo >/dev/null
LOAD="dotnet bench/HarmonyProxy.LoadTest/bin/Release/net10.0/HarmonyProxy.LoadTest.dll"

pids=()
cleanup() {
  kill "${pids[@]}" 2>/dev/null || true; kill "$(cat "$work/nginx.pid" 2>/dev/null)" 2>/dev/null; rm -rf "$work"
  if [ -n "${cgroup:-}" ]; then wait "${pids[@]}" 2>/dev/null || true; rmdir "$cgroup" 2>/dev/null || true; fi
}
trap cleanup EXIT INT TERM

$LOAD upstream --urls "http://$UP" --tokens "$TOKENS" --rate "$RATE" >"$work/upstream.log" 2>&1 &
pids+=($!)

mkdir -p "$work/nginx"
cat >"$work/nginx.conf" <<CONF
daemon off;
worker_processes 2;
worker_rlimit_nofile 65536;
pid $work/nginx.pid;
error_log $work/nginx/error.log warn;
events { worker_connections 16384; }
http {
  access_log off;
  client_body_temp_path $work/nginx;
  proxy_temp_path $work/nginx;
  upstream llama { server $UP; keepalive 512; }
  server {
    listen $NGINX;
    location / {
      proxy_pass http://llama;
      proxy_http_version 1.1;
      proxy_set_header Connection "";
      proxy_buffering off;
      proxy_read_timeout 300s;
    }
  }
}
CONF
nginx -c "$work/nginx.conf" -p "$work" &
pids+=($!)

# A memory cgroup for HarmonyProxy alone (v1 here; v2 where the unified hierarchy holds the memory controller).
launcher=()
cgroup=""
if [ -n "${PROXY_MEMORY_LIMIT:-}" ]; then
  limit_bytes=$(numfmt --from=iec "$PROXY_MEMORY_LIMIT")
  if [ -w /sys/fs/cgroup/memory ]; then
    cgroup=/sys/fs/cgroup/memory/harmony-proxy-load-$$
    mkdir "$cgroup"
    echo "$limit_bytes" >"$cgroup/memory.limit_in_bytes"
    peak_file=$cgroup/memory.max_usage_in_bytes
    oom_kills() { awk '$1 == "oom_kill" {print $2}' "$cgroup/memory.oom_control"; }
  elif grep -qw memory /sys/fs/cgroup/cgroup.controllers 2>/dev/null; then
    cgroup=/sys/fs/cgroup/harmony-proxy-load-$$
    mkdir "$cgroup"
    echo "$limit_bytes" >"$cgroup/memory.max"
    peak_file=$cgroup/memory.peak
    oom_kills() { awk '$1 == "oom_kill" {print $2}' "$cgroup/memory.events"; }
  else
    echo "PROXY_MEMORY_LIMIT: no writable memory cgroup here" >&2; exit 1
  fi
  # shellcheck disable=SC2016
  launcher=(sh -c 'echo $$ >"$0" && exec "$@"' "$cgroup/cgroup.procs")
  # As in a fresh container, the runtime's and the app's files are read into the page cache by the
  # proxy itself, so the cgroup is charged for them (where the machine lets us drop the cache).
  sync; echo 3 >/proc/sys/vm/drop_caches 2>/dev/null || true
fi

proxy_dll=${PROXY_DLL:-src/HarmonyProxy/bin/Release/net10.0/HarmonyProxy.dll}
case "$proxy_dll" in
  *.dll) proxy_command=(dotnet "$proxy_dll") ;;
  *) proxy_command=("$proxy_dll") ;;
esac
# HarmonyProxy runs with the Dockerfile's runtime switch (DOTNET_SYSTEM_NET_SOCKETS_INLINE_COMPLETIONS).
source bench/proxy-bench-env.sh
UPSTREAM_BASE_URL="http://$UP/v1" ASPNETCORE_URLS="http://$PROXY" \
  "${launcher[@]}" env "${PROXY_BENCH_ENV[@]}" ${PROXY_ENV:-} "${proxy_command[@]}" >"$work/proxy.log" 2>&1 &
proxy_pid=$!
pids+=($proxy_pid)

for target in $UP $NGINX $PROXY; do
  for _ in $(seq 1 100); do curl -sf "http://$target/v1/models" >/dev/null 2>&1 && break; sleep 0.1; done
done

ticks=$(getconf CLK_TCK)
cpu_of() { local total=0; for p in "$@"; do [ -r "/proc/$p/stat" ] && total=$((total + $(awk '{print $14 + $15}' "/proc/$p/stat"))); done; echo "$total"; }
# status_kb FIELD pids...: a /proc/PID/status field (VmRSS, VmHWM) in KB, summed over the pids.
status_kb() { local field=$1 total=0; shift; for p in "$@"; do [ -r "/proc/$p/status" ] && total=$((total + $(awk -v f="$field:" '$1 == f {print $2}' "/proc/$p/status"))); done; echo "$total"; }
nginx_pids() { pgrep -f "nginx: worker process" | tr '\n' ' '; }

# managed_heap_peak URL: the largest GC.GetTotalMemory (dotnet_total_memory_bytes) the proxy
# reports while the streams run, sampled four times a second into $work/heap_peak.
managed_heap_peak() {
  local peak=0 value
  while :; do
    value=$(curl -sf "$1/metrics" | awk '$1 == "dotnet_total_memory_bytes" {printf "%d", $2}') || true
    if [ -n "$value" ] && [ "$value" -gt "$peak" ]; then peak=$value; echo "$peak" >"$work/heap_peak"; fi
    sleep 0.25
  done
}

# allocated_bytes URL: the bytes the proxy has allocated on its managed heap so far.
allocated_bytes() { curl -sf "$1/metrics" | awk '$1 == "harmony_proxy_allocated_bytes_total" {printf "%d", $2}' || echo 0; }

run() { # label url pids...
  local label=$1 url=$2; shift 2
  local before after sampler=""
  if [ -n "$cgroup" ] && [ "$label" = harmony-proxy ]; then
    echo 0 >"$work/heap_peak"; managed_heap_peak "$url" & sampler=$!
  fi
  local allocated_before=""
  [ "$label" = harmony-proxy ] && allocated_before=$(allocated_bytes "$url")
  before=$(cpu_of "$@")
  line=$($LOAD client --url "$url" --streams "$STREAMS" --label "$label" || true)
  after=$(cpu_of "$@")
  local allocated_after=""
  [ -n "$allocated_before" ] && allocated_after=$(allocated_bytes "$url")
  if [ -n "$sampler" ]; then
    kill "$sampler" 2>/dev/null; wait "$sampler" 2>/dev/null || true
    line="$line managed_heap_peak_mb=$(( $(cat "$work/heap_peak") / 1048576 )) heap_per_stream_kb=$(( ($(cat "$work/heap_peak") - IDLE_HEAP) / 1024 / STREAMS ))"
  fi
  local tokens; tokens=$(echo "$line" | sed -n 's/.*tokens=\([0-9]*\).*/\1/p')
  local cpu="n/a" rss="n/a" idle="n/a" per_stream="n/a"
  if [ "$#" -gt 0 ] && [ "${tokens:-0}" -gt 0 ]; then
    cpu=$(awk -v d=$((after - before)) -v t="$ticks" -v n="$tokens" 'BEGIN {printf "%.4f", d / t / n * 1000}')
    local hwm; hwm=$(status_kb VmHWM "$@")
    rss="$((hwm / 1024)) MB"
    # Memory per open stream: peak RSS over the idle RSS right after start-up, per stream.
    idle="$((IDLE_KB / 1024)) MB"
    per_stream="$(( (hwm - IDLE_KB) / STREAMS )) KB"
  fi
  if [ -n "$allocated_after" ] && [ "${tokens:-0}" -gt 0 ]; then
    line="$line alloc_bytes_per_token=$(( (allocated_after - allocated_before) / tokens ))"
  fi
  # Time to first token of single requests on an otherwise idle path (after the streams ended).
  local first; first=$($LOAD first-token --url "$url" || true)
  echo "$line cpu_s_per_1k_tokens=$cpu peak_rss=$rss idle_rss=$idle per_stream=$per_stream $first"
}

# Idle memory right after start-up, before any stream: the base for memory per stream.
idle_nginx=$(status_kb VmRSS $(nginx_pids))
idle_proxy=$(status_kb VmRSS "$proxy_pid")
IDLE_HEAP=$(curl -sf "http://$PROXY/metrics" | awk '$1 == "dotnet_total_memory_bytes" {printf "%d", $2}' || echo 0)

# Warm-up (not measured), the same for every way: WARMUP full-size runs fill connection pools
# and nginx's keepalive pool and let .NET's tiered JIT reach its final code (tier-1 with PGO
# takes a few thousand requests' worth of calls); the figures are the steady state of a
# long-running service, not its first seconds.
WARMUP=${WARMUP:-4}
for target in $UP $NGINX $PROXY; do
  for _ in $(seq 1 "$WARMUP"); do $LOAD client --url "http://$target" --streams "${WARMUP_STREAMS:-$STREAMS}" --label warmup >/dev/null || true; done
done

# Measured rounds, interleaved (direct, nginx, HarmonyProxy, then again): this machine's noise
# drifts over minutes, so each way's figure is the median of ROUNDS runs taken side by side,
# and latency added over direct is computed within each round.
ROUNDS=${ROUNDS:-5}
echo "load: $STREAMS streams x $TOKENS tokens at $RATE tokens/s, warm-up $WARMUP runs per way, $ROUNDS measured rounds, $(nproc) cores, $(date -u +%FT%TZ), commit $(git rev-parse --short HEAD)"
for round in $(seq 1 "$ROUNDS"); do
  IDLE_KB=0 run direct "http://$UP"
  # shellcheck disable=SC2046
  IDLE_KB=$idle_nginx run nginx "http://$NGINX" $(nginx_pids)
  IDLE_KB=$idle_proxy run harmony-proxy "http://$PROXY" "$proxy_pid"
done | tee "$work/rounds.txt" | sed 's/^/round: /'

# Medians per way; added latency is way minus direct in the same round, then the median.
awk '
  function field(name,   i) { for (i = 1; i <= NF; i++) if (index($i, name "=") == 1) return substr($i, length(name) + 2); return "" }
  function median(list,   n, a, i, j, t) {
    n = split(list, a, " ")
    for (i = 1; i <= n; i++) for (j = i + 1; j <= n; j++) if (a[j] + 0 < a[i] + 0) { t = a[i]; a[i] = a[j]; a[j] = t }
    return n % 2 ? a[(n + 1) / 2] : (a[n / 2] + a[n / 2 + 1]) / 2
  }
  function listed(list) { sub(/^ /, "", list); gsub(/ /, " / ", list); return list }
  {
    way = $1; sub(":", "", way)
    if (way == "direct") { r++; d50 = field("p50"); d99 = field("p99") }
    p50[way] = p50[way] " " field("p50") / 1000; p99[way] = p99[way] " " field("p99") / 1000
    add50[way] = add50[way] " " (field("p50") - d50) / 1000; add99[way] = add99[way] " " (field("p99") - d99) / 1000
    cpu[way] = cpu[way] " " field("cpu_s_per_1k_tokens") * 1000; failed[way] += field("failed")
    memory[way] = "peak_rss=" field("peak_rss") "MB per_stream=" field("per_stream") "KB"
    if (field("alloc_bytes_per_token") != "") alloc[way] = alloc[way] " " field("alloc_bytes_per_token")
    if (!(way in order)) { order[way] = ++ways; names[ways] = way }
  }
  END {
    for (k = 1; k <= ways; k++) {
      w = names[k]
      line = sprintf("median %s: rounds=%d failed=%d latency_ms p50=%.2f p99=%.2f", w, r, failed[w], median(p50[w]), median(p99[w]))
      if (w != "direct") line = line sprintf(" added_p50_ms=%+.2f (%s) added_p99_ms=%+.2f cpu_ms_per_1k_tokens=%.1f (%s) %s", median(add50[w]), listed(add50[w]), median(add99[w]), median(cpu[w]), listed(cpu[w]), memory[w])
      if (w == "harmony-proxy" && median(cpu["nginx"]) > 0) line = line sprintf(" cpu_vs_nginx=%.2fx", median(cpu[w]) / median(cpu["nginx"]))
      if (alloc[w] != "") line = line sprintf(" alloc_bytes_per_token=%d (%s)", median(alloc[w]), listed(alloc[w]))
      print line
    }
  }' "$work/rounds.txt"

if [ -n "$cgroup" ]; then
  echo "cgroup: limit=$((limit_bytes / 1048576)) MiB peak_usage=$(( $(cat "$peak_file") / 1048576 )) MiB oom_kills=$(oom_kills) proxy_alive=$(kill -0 "$proxy_pid" 2>/dev/null && echo yes || echo no)"
fi
