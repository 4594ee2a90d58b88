using HarmonyProxy.Completions;
using HarmonyProxy.Upstream;

namespace HarmonyProxy.Forwarding;

/// <summary>The settings one forwarding run reads, taken from the rooms' options when it starts, so a reload never changes a request half-way.</summary>
internal sealed record ForwarderSettings(UpstreamOptions Upstream, ParserOptions Parser, LoopGuardOptions LoopGuard);
