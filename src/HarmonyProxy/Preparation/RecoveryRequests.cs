using System.Text.Json.Nodes;
using HarmonyProxy.Harmony;
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

    /// <summary>The chat fields that set how llama-server samples, carried to <c>/completion</c> under the same names.</summary>
    private static readonly string[] SamplingFields =
        ["temperature", "top_p", "top_k", "min_p", "typical_p", "seed", "repeat_penalty", "repeat_last_n", "presence_penalty", "frequency_penalty", "dry_multiplier", "xtc_probability", "logit_bias", "grammar", "cache_prompt"];

    /// <summary>
    /// llama-server's own text completion (<c>POST /completion</c>) that continues a turn: the
    /// prompt its template rendered, then the Harmony the model had produced (the analysis the
    /// client was shown), streamed with the same sampling, stops and length limit as the chat
    /// request, so the model resumes where it stopped.
    /// </summary>
    /// <param name="prompt">The chat request rendered by llama-server's template, ending where the assistant's turn begins.</param>
    /// <param name="reasoningSoFar">The analysis the client was shown.</param>
    public static byte[] Continuation(byte[] upstreamBody, string prompt, string reasoningSoFar)
    {
        ArgumentNullException.ThrowIfNull(prompt);
        var request = Parse(upstreamBody);
        var continuation = new JsonObject
        {
            ["prompt"] = prompt + HarmonyTags.Channel + "analysis" + HarmonyTags.Message + reasoningSoFar,
            ["stream"] = true,
        };
        foreach (var field in SamplingFields)
        {
            if (request[field] is { } value)
            {
                continuation[field] = value.DeepClone();
            }
        }

        if ((request["max_completion_tokens"] ?? request["max_tokens"] ?? request["n_predict"]) is { } limit)
        {
            continuation["n_predict"] = limit.DeepClone();
        }

        if (request["stop"] is { } stop)
        {
            continuation["stop"] = stop.DeepClone();
        }

        return OpenAiJson.ToUtf8Bytes(continuation);
    }

    // The prepared body was serialized by the proxy from a validated object: it parses.
    private static JsonObject Parse(byte[] upstreamBody) =>
        JsonNode.Parse(upstreamBody, documentOptions: OpenAiJson.DocumentOptions)!.AsObject();
}
