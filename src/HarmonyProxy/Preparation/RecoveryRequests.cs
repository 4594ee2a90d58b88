using System.Text.Json.Nodes;
using HarmonyProxy.Wire;

namespace HarmonyProxy.Preparation;

/// <summary>
/// The upstream body of a recovery re-request, rewritten from the prepared body. Runs only
/// after llama-server failed a request, never on the token path, so parsing the body again
/// costs nothing that matters.
/// </summary>
internal static class RecoveryRequests
{
    /// <summary>
    /// The same request with llama-server's own parsing off (<c>reasoning_format: none</c>,
    /// <c>parse_tool_calls: false</c>): what comes back is Harmony text in <c>content</c>
    /// (llama-server.md §2.4; tags kept or partly stripped, depending on the build), which the
    /// proxy's own parser reads like any raw or stripped upstream.
    /// </summary>
    public static byte[] WithRawOutput(byte[] upstreamBody)
    {
        var request = Parse(upstreamBody);
        request["reasoning_format"] = "none";
        request["parse_tool_calls"] = false;
        return OpenAiJson.ToUtf8Bytes(request);
    }

    /// <summary>The same request with its history repaired for the gpt-oss template; null when nothing in it needed repair.</summary>
    public static byte[]? WithRepairedHistory(byte[] upstreamBody, out int repairedMessages)
    {
        var request = Parse(upstreamBody);
        repairedMessages = request["messages"] is JsonArray messages ? HistoryRepair.RepairForTemplate(messages) : 0;
        return repairedMessages == 0 ? null : OpenAiJson.ToUtf8Bytes(request);
    }

    // The prepared body was serialized by the proxy from a validated object: it parses.
    private static JsonObject Parse(byte[] upstreamBody) =>
        JsonNode.Parse(upstreamBody, documentOptions: OpenAiJson.DocumentOptions)!.AsObject();
}
