using HarmonyProxy.Diagnostics;
using HarmonyProxy.Memory;
using HarmonyProxy.Tests.Infrastructure;
using Microsoft.AspNetCore.DataProtection;
using Microsoft.AspNetCore.DataProtection.KeyManagement;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using StackExchange.Redis;

namespace HarmonyProxy.Tests.Memory;

public sealed class ReasoningSealerTests
{
    private readonly EphemeralDataProtectionProvider _keys = new();

    [Fact]
    public void Sealed_OpensAgain_AndHidesTheText()
    {
        var sealer = Sealer(_keys);

        var blob = sealer.Seal("We should call read_file first.")!;

        Assert.DoesNotContain("read_file", blob, StringComparison.Ordinal);
        Assert.Equal("We should call read_file first.", sealer.Unseal(blob));
    }

    [Fact]
    public void Expired_Tampered_Foreign_OrNotABlob_ReadAsNull()
    {
        var sealer = Sealer(_keys);
        var expired = sealer.Seal("old", DateTimeOffset.UtcNow.AddMinutes(-1))!;
        var blob = sealer.Seal("text")!;
        var tampered = blob[..10] + (blob[10] == 'x' ? 'y' : 'x') + blob[11..];
        var otherPurpose = _keys.CreateProtector("another purpose").Protect("text");

        Assert.Null(sealer.Unseal(expired));
        Assert.Null(sealer.Unseal(tampered));
        Assert.Null(Sealer(new EphemeralDataProtectionProvider()).Unseal(blob));
        Assert.Null(sealer.Unseal(otherPurpose));
        Assert.Null(sealer.Unseal("not a blob at all"));
    }

    [Fact]
    public void KeysOnRedisNotReadYet_NothingIsSealedOrOpened_AndTheMissIsCounted()
    {
        var blob = Sealer(_keys).Seal("text")!;
        var unread = new RedisKeyRing(() => Task.FromException<IConnectionMultiplexer>(new RedisConnectionException(ConnectionFailureType.UnableToConnect, "down")), TimeProvider.System, NullLogger<RedisKeyRing>.Instance);
        var metrics = new ProxyMetrics(Prometheus.Metrics.NewCustomRegistry());
        var sealer = Sealer(_keys, unread, metrics);

        Assert.Null(sealer.Seal("text"));
        Assert.Null(sealer.Unseal(blob));
        Assert.Equal(1, metrics.ResponsesReasoningUnsealed.Value);
    }

    private static ReasoningSealer Sealer(IDataProtectionProvider keys, RedisKeyRing? repository = null, ProxyMetrics? metrics = null) =>
        new(keys,
            Options.Create(new KeyManagementOptions { XmlRepository = repository }),
            new StaticOptionsMonitor<ResponsesOptions>(new ResponsesOptions()),
            TimeProvider.System,
            metrics ?? new ProxyMetrics(Prometheus.Metrics.NewCustomRegistry()));
}
