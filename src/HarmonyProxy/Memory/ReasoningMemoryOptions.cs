using Microsoft.Extensions.Options;

namespace HarmonyProxy.Memory;

/// <summary>The <c>HarmonyProxy:ReasoningMemory</c> settings.</summary>
internal sealed class ReasoningMemoryOptions
{
    public const string SectionName = "HarmonyProxy:ReasoningMemory";

    /// <summary>Restore the reasoning of tool-call turns that a client's history lacks (<c>REASONING_MEMORY_ENABLED</c>).</summary>
    public bool Enabled { get; set; } = true;

    /// <summary>Entries kept at most in this process (reasoning per tool call, stored responses); the least recently used go first.</summary>
    [SettingRange("HarmonyProxy:ReasoningMemory:MaxEntries", "a positive number", Minimum = 1)]
    public int MaxEntries { get; set; } = 10_000;

    /// <summary>The most bytes the entries hold together in this process; on Redis, the largest one entry may be.</summary>
    [SettingRange("HarmonyProxy:ReasoningMemory:MaxBytes", "a positive number of bytes", Minimum = 1)]
    public long MaxBytes { get; set; } = 64 * 1024 * 1024;

    /// <summary>Entries one client (one key, or one address without keys) may hold in this process; past it, that client's own least recently used go.</summary>
    [SettingRange("HarmonyProxy:ReasoningMemory:MaxEntriesPerClient", "a positive number", Minimum = 1)]
    public int MaxEntriesPerClient { get; set; } = 2_500;

    /// <summary>Bytes one client's entries may hold together (and the largest one entry of a client may be, on Redis too); past it, that client's own least recently used go.</summary>
    [SettingRange("HarmonyProxy:ReasoningMemory:MaxBytesPerClient", "a positive number of bytes", Minimum = 1)]
    public long MaxBytesPerClient { get; set; } = 16 * 1024 * 1024;

    /// <summary>How long an entry lives.</summary>
    [SettingRange("HarmonyProxy:ReasoningMemory:MaxAge (MaxAgeMinutes)", "a positive duration", Minimum = 0, MinimumExcluded = true)]
    public TimeSpan MaxAge { get; set; } = TimeSpan.FromHours(2);

    /// <summary>A Redis connection string (<c>host:port,password=…</c>) to share the store, and the Data Protection keys, between replicas (<c>REASONING_MEMORY_REDIS</c>); empty: in-process.</summary>
    public string? Redis { get; set; }

    /// <summary>The longest a request waits for Redis before going on without it.</summary>
    [SettingRange("HarmonyProxy:ReasoningMemory:RedisTimeout (RedisTimeoutMilliseconds)", "at least a millisecond", Minimum = 0.001)]
    public TimeSpan RedisTimeout { get; set; } = TimeSpan.FromMilliseconds(200);
}

/// <summary>The ranges of <see cref="ReasoningMemoryOptions"/>, checked by code the options source generator writes.</summary>
[OptionsValidator]
internal sealed partial class ReasoningMemoryOptionsValidator : IValidateOptions<ReasoningMemoryOptions>;
