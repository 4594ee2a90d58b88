using HarmonyProxy.Responses;
using Microsoft.AspNetCore.DataProtection;
using HarmonyProxy.Tests.Infrastructure;

namespace HarmonyProxy.Tests.Responses;

public sealed class ReasoningSealerTests
{
    private readonly EphemeralDataProtectionProvider _keys = new();

    [Fact]
    public void Sealed_OpensAgain_AndHidesTheText()
    {
        var sealer = Sealer(_keys);

        var blob = sealer.Seal("We should call read_file first.");

        Assert.DoesNotContain("read_file", blob, StringComparison.Ordinal);
        Assert.Equal("We should call read_file first.", sealer.Unseal(blob));
    }

    [Fact]
    public void Expired_Tampered_Foreign_OrNotABlob_ReadAsNull()
    {
        var sealer = Sealer(_keys);
        var expired = sealer.Seal("old", DateTimeOffset.UtcNow.AddMinutes(-1));
        var blob = sealer.Seal("text");
        var tampered = blob[..10] + (blob[10] == 'x' ? 'y' : 'x') + blob[11..];
        var otherPurpose = _keys.CreateProtector("another purpose").Protect("text");

        Assert.Null(sealer.Unseal(expired));
        Assert.Null(sealer.Unseal(tampered));
        Assert.Null(Sealer(new EphemeralDataProtectionProvider()).Unseal(blob));
        Assert.Null(sealer.Unseal(otherPurpose));
        Assert.Null(sealer.Unseal("not a blob at all"));
    }

    private static ReasoningSealer Sealer(IDataProtectionProvider keys) =>
        new(keys, new StaticOptionsMonitor<ResponsesOptions>(new ResponsesOptions()));
}
