# Sourced by the benchmarks that start HarmonyProxy: the environment they run it with. The limits
# meant for a shared service (slots, the queue, per-client rates, the breaker) are lifted so that
# only the relay is measured, and socket completions run inline as in the Dockerfile.
# shellcheck shell=bash disable=SC2034
PROXY_BENCH_ENV=(
  HarmonyProxy__Upstream__MaxConcurrentRequests=10000 HarmonyProxy__Upstream__MaxQueuedRequests=10000
  HarmonyProxy__Security__RequestsPerMinutePerClient=0 HarmonyProxy__Security__ConcurrentRequestsPerClient=0
  HarmonyProxy__Upstream__CircuitBreakerFailureRatio=1
  DOTNET_SYSTEM_NET_SOCKETS_INLINE_COMPLETIONS=1
)
