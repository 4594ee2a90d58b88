using System.Buffers;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using HarmonyProxy.Completions;
using HarmonyProxy.Tests.Completions;
using HarmonyProxy.Tests.Infrastructure;
using HarmonyProxy.Wire;

namespace HarmonyProxy.Tests.Payloads;

/// <summary>
/// Golden wire fixtures, the documentation of what the proxy does: each
/// <c>&lt;case&gt;.upstream.sse</c> is what llama-server sent (its exact framing), <c>&lt;case&gt;.case.json</c>
/// the client's options, and <c>&lt;case&gt;.client.sse</c> or <c>.client.json</c> what the client
/// gets, compared byte for byte once the random tool-call ids are normalised. Run with
/// <c>UPDATE_PAYLOADS=1</c> to rewrite the client files after a deliberate change, then read the diff.
/// </summary>
public sealed partial class GoldenPayloadTests
{
    private static readonly string Directory = Path.Combine(Repository.Root, "tests", "HarmonyProxy.Tests", "Payloads");

    public static TheoryData<string> Cases
    {
        get
        {
            var cases = new TheoryData<string>();
            foreach (var file in System.IO.Directory.EnumerateFiles(Directory, "*.upstream.sse").Order(StringComparer.Ordinal))
            {
                cases.Add(Path.GetFileName(file)[..^".upstream.sse".Length]);
            }

            return cases;
        }
    }

    [Fact]
    public void ThereAreAtLeast24Cases_CoveringEveryFlavourAndOption()
    {
        var names = System.IO.Directory.EnumerateFiles(Directory, "*.upstream.sse").Select(Path.GetFileName).ToList();

        Assert.True(names.Count >= 24, $"{names.Count} cases");
        Assert.Contains(names, name => name!.StartsWith("raw-", StringComparison.Ordinal));
        Assert.Contains(names, name => name!.StartsWith("stripped-", StringComparison.Ordinal));
        Assert.Contains(names, name => name!.StartsWith("parsed-", StringComparison.Ordinal));
        Assert.Contains(names, name => name!.Contains("think-tags", StringComparison.Ordinal));
        Assert.Contains(names, name => name!.Contains("reasoning-none", StringComparison.Ordinal));
        Assert.Contains(names, name => name!.Contains("tool-call-text", StringComparison.Ordinal));
        Assert.Contains(names, name => name!.Contains("tool-call-drop", StringComparison.Ordinal));
        Assert.Contains(names, name => name!.Contains("usage", StringComparison.Ordinal));
        Assert.Contains(names, name => name!.Contains("error", StringComparison.Ordinal));
        Assert.Contains(names, name => name!.Contains("watchdog", StringComparison.Ordinal));
        Assert.Contains(names, name => name!.Contains("-json.", StringComparison.Ordinal));
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public async Task Case_GivesItsGoldenClientOutput(string name)
    {
        var options = JsonNode.Parse(await File.ReadAllTextAsync(Path.Combine(Directory, name + ".case.json")))!;
        var stream = options["stream"]!.GetValue<bool>();
        var actual = Normalise(await TranslateAsync(await File.ReadAllBytesAsync(Path.Combine(Directory, name + ".upstream.sse")), options, stream), stream);
        var expectedPath = Path.Combine(Directory, name + (stream ? ".client.sse" : ".client.json"));

        if (Environment.GetEnvironmentVariable("UPDATE_PAYLOADS") == "1")
        {
            await File.WriteAllTextAsync(expectedPath, actual);
        }

        Assert.True(File.Exists(expectedPath), $"{expectedPath} is missing: run with UPDATE_PAYLOADS=1 and review it.");
        Assert.Equal(await File.ReadAllTextAsync(expectedPath), actual);
    }

    /// <summary>The service as it runs: upstream body → the forwarder (relay, translator, the one ending) → the client's bytes.</summary>
    private static async Task<string> TranslateAsync(byte[] upstream, JsonNode options, bool stream)
    {
        Assert.True(OutputOptions.TryParseReasoning(options["reasoning"]!.GetValue<string>(), out var reasoning));
        Assert.True(OutputOptions.TryParseToolCalls(options["toolCalls"]!.GetValue<string>(), out var toolCalls));
        await using var harness = new ForwarderHarness();
        var (client, _) = await harness.ForwardAsync(upstream, stream, options["includeUsage"]!.GetValue<bool>(), new OutputOptions(reasoning, toolCalls), heldOpen: options["end"]!.GetValue<string>() == "watchdog");
        return client;
    }

    /// <summary>Tool-call ids are random; JSON bodies are indented so the golden files read well.</summary>
    internal static string Normalise(string text, bool stream)
    {
        text = CallId().Replace(text, "call_ID");
        if (stream)
        {
            return text;
        }

        return JsonNode.Parse(text)!.ToJsonString(new JsonSerializerOptions { WriteIndented = true, Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping }) + "\n";
    }

    [GeneratedRegex("call_[0-9A-Za-z]{24}")]
    private static partial Regex CallId();
}
