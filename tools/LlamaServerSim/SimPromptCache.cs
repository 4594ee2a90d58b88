using System.Text;
using System.Text.Json.Nodes;

namespace LlamaServerSim;

/// <summary>A request's prompt size in tokens and how many of them a slot's cache already held.</summary>
public readonly record struct SimPrompt(int Tokens, int Cached);

/// <summary>
/// llama-server's per-slot prompt cache, roughly: each slot remembers the last prompt it
/// processed; a request continues the slot whose prompt it extends (else takes the least
/// recently used slot) and only what that slot did not hold is processed. Prompts are the
/// rendered messages and tools; four characters make a token.
/// </summary>
internal sealed class SimPromptCache
{
    private readonly Lock _gate = new();
    private readonly List<(string Prompt, long LastUsed)> _slots = [];
    private long _clock;

    /// <summary>Puts the request's prompt in a slot; returns the tokens that slot already held.</summary>
    public int Reuse(JsonObject request, int totalSlots)
    {
        var prompt = Render(request);
        lock (_gate)
        {
            while (_slots.Count < Math.Max(1, totalSlots))
            {
                _slots.Add((string.Empty, 0));
            }

            // A request continues the slot whose prompt it extends (its own conversation), the
            // longest such; otherwise it takes the least recently used slot and reuses only what
            // it happens to share with it (a common system prompt).
            var best = -1;
            for (var i = 0; i < _slots.Count; i++)
            {
                var cached = _slots[i].Prompt;
                if (cached.Length > 0 && prompt.StartsWith(cached, StringComparison.Ordinal) && (best < 0 || cached.Length > _slots[best].Prompt.Length))
                {
                    best = i;
                }
            }

            if (best < 0)
            {
                best = 0;
                for (var i = 1; i < _slots.Count; i++)
                {
                    if (_slots[i].LastUsed < _slots[best].LastUsed)
                    {
                        best = i;
                    }
                }
            }

            var shared = prompt.AsSpan().CommonPrefixLength(_slots[best].Prompt);
            _slots[best] = (prompt, ++_clock);
            return shared / 4;
        }
    }

    /// <summary>The prompt a request renders to (what <c>/apply-template</c> returns).</summary>
    public static string Render(JsonObject request)
    {
        var text = new StringBuilder();
        text.Append(request["tools"]?.ToJsonString());
        foreach (var message in (request["messages"] as JsonArray ?? []).OfType<JsonObject>())
        {
            text.Append("<|start|>").Append(message["role"]).Append("<|message|>").Append(message["content"]?.ToJsonString()).Append(message["tool_calls"]?.ToJsonString());
        }

        return text.ToString();
    }
}
