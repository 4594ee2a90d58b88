using System.Text;
using System.Text.Json.Nodes;
using HarmonyProxy.Diagnostics;
using HarmonyProxy.Memory;
using HarmonyProxy.Wire;
using Microsoft.Extensions.Options;

namespace HarmonyProxy.Preparation;

/// <summary>
/// The reasoning of tool-call turns, kept for clients that do not send it back (Continue, or any
/// client served with the reasoning option <c>none</c>). When the proxy relays a turn that ends in
/// tool calls, its reasoning is stored once under each call's id and the client's identity; when a
/// later history holds that assistant message without reasoning, and Harmony's rule would keep it
/// (a tool-call turn since the last final answer), it is put back as <c>reasoning_content</c>.
/// </summary>
internal sealed class ReasoningMemory(IConversationStore store, IOptionsMonitor<ReasoningMemoryOptions> options, ProxyMetrics metrics)
{
    /// <summary>Restores missing reasoning into <paramref name="messages"/>; returns how many turns got theirs back.</summary>
    public async ValueTask<int> RestoreAsync(string owner, JsonArray messages, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(messages);
        if (!options.CurrentValue.Enabled)
        {
            return 0;
        }

        var restored = 0;
        var missed = 0;
        for (var i = ReasoningRetention.LastFinalAnswer(messages) + 1; i < messages.Count; i++)
        {
            if (!ReasoningRetention.IsToolCallTurn(messages[i]) || messages[i]![ReasoningRetention.Field] is JsonValue)
            {
                continue;
            }

            var message = messages[i]!.AsObject();
            var id = message["tool_calls"]!.AsArray().OfType<JsonObject>().Select(call => JsonProperties.String(call["id"])).FirstOrDefault(id => id is not null);
            if (id is null)
            {
                continue;
            }

            if (await store.GetAsync(Key(owner, id), cancellationToken) is { } reasoning)
            {
                message[ReasoningRetention.Field] = Encoding.UTF8.GetString(reasoning);
                restored++;
            }
            else
            {
                missed++;
            }
        }

        metrics.ReasoningMemoryEvent("restored", restored);
        metrics.ReasoningMemoryEvent("miss", missed);
        return restored;
    }

    /// <summary>
    /// Keeps a finished tool-call turn's reasoning under each of its call ids. Not awaited by the
    /// request: the store never throws, and a slow one must not hold the response.
    /// </summary>
    public void Remember(string owner, IReadOnlyList<string> toolCallIds, string reasoning)
    {
        ArgumentNullException.ThrowIfNull(toolCallIds);
        if (!options.CurrentValue.Enabled || toolCallIds.Count == 0 || string.IsNullOrEmpty(reasoning))
        {
            return;
        }

        var bytes = Encoding.UTF8.GetBytes(reasoning);
        foreach (var id in toolCallIds)
        {
            _ = store.SetAsync(owner, Key(owner, id), bytes, CancellationToken.None).AsTask();
        }

        metrics.ReasoningMemoryEvent("stored");
    }

    private static string Key(string owner, string toolCallId) => $"reasoning:{owner}:{toolCallId}";
}
