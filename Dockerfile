# syntax=docker/dockerfile:1
# Build: the same restore/publish CI runs (.ci/run), without tests. Native AOT (the project file):
# one native executable, no JIT, so a fresh container streams at its steady cost from the first
# token and starts in a fraction of the JIT build's time (bench/results/2026-12-02-native-aot.md).
# The -aot SDK image carries the C toolchain the native link needs; it is Ubuntu 24.04 (noble),
# as the runtime image below, so the binary meets the C library it was linked against.
FROM mcr.microsoft.com/dotnet/sdk:10.0-noble-aot AS build
WORKDIR /src
COPY . .
ARG TARGETARCH
RUN rid=linux-$([ "$TARGETARCH" = "arm64" ] && echo arm64 || echo x64) \
 && dotnet publish src/HarmonyProxy/HarmonyProxy.csproj -c Release -r "$rid" -o /app

# Run: no .NET runtime needed, only its native dependencies; chiseled (no shell, non-root by default).
FROM mcr.microsoft.com/dotnet/runtime-deps:10.0-noble-chiseled
WORKDIR /app
# The executable and its settings; the debug symbols (HarmonyProxy.dbg) stay in the build stage.
COPY --from=build /app/HarmonyProxy /app/appsettings.json ./
# Socket completions and Kestrel's pipes run on the epoll threads: no thread-pool hop per
# token (README, Performance; src/HarmonyProxy/Hosting/TransportSetup.cs).
# Memory and GC: no GC setting here. The project file's Server GC with DATAS, non-concurrent, is
# the one chosen by measurement beside one heap, workstation and conserve-memory
# (bench/results/2026-12-07-gc.md); the runtime reads the cgroup's limit and keeps its heap within
# 75 % of it, and 2,000 streams ran in a 256 MiB cgroup without a failure.
ENV ASPNETCORE_URLS=http://0.0.0.0:8081 \
    UPSTREAM_BASE_URL=http://llama-server:8080/v1 \
    DOTNET_SYSTEM_NET_SOCKETS_INLINE_COMPLETIONS=1
EXPOSE 8081
USER $APP_UID
ENTRYPOINT ["./HarmonyProxy"]
