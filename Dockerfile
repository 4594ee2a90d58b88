# syntax=docker/dockerfile:1
# Build: the same restore/publish CI runs (.ci/run), without tests.
FROM mcr.microsoft.com/dotnet/sdk:10.0 AS build
WORKDIR /src
COPY . .
# ReadyToRun: precompiled code, so start-up and the first requests spend less CPU in the JIT
# (bench/results/2026-12-02-cold-start.md).
ARG TARGETARCH
RUN rid=linux-$([ "$TARGETARCH" = "arm64" ] && echo arm64 || echo x64) \
 && dotnet publish src/HarmonyProxy/HarmonyProxy.csproj -c Release -r "$rid" --self-contained false -p:PublishReadyToRun=true -o /app

# Run: ASP.NET Core runtime, chiseled (no shell, non-root by default).
FROM mcr.microsoft.com/dotnet/aspnet:10.0-noble-chiseled
WORKDIR /app
COPY --from=build /app .
# Socket completions and Kestrel's pipes run on the epoll threads: no thread-pool hop per
# token (README, Performance; src/HarmonyProxy/Hosting/TransportSetup.cs).
# Memory: no GC setting is needed for a container limit. The runtime reads the cgroup's limit and
# keeps its heap within 75 % of it (Server GC with DATAS, from the project file); 2,000 streams ran
# in a 256 MiB cgroup without a failure (bench/results/2026-12-02-memory-256mib.md).
ENV ASPNETCORE_URLS=http://0.0.0.0:8081 \
    UPSTREAM_BASE_URL=http://llama-server:8080/v1 \
    DOTNET_SYSTEM_NET_SOCKETS_INLINE_COMPLETIONS=1
EXPOSE 8081
USER $APP_UID
ENTRYPOINT ["dotnet", "HarmonyProxy.dll"]
