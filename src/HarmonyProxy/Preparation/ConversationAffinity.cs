using System.Security.Cryptography;
using System.Text;
using System.Text.Json.Nodes;
using HarmonyProxy.Wire;

namespace HarmonyProxy.Preparation;

/// <summary>
/// A conversation's affinity key from its body: <c>prompt_cache_key</c> when the client sent one
/// (OpenAI clients, Codex's thread id), else a hash of what stays the same as the conversation
/// grows: the system and developer messages, the tools and the first user message. (The
/// <c>x-session-affinity</c> header, Kilo's, is read by the endpoint and wins over both.)
/// </summary>
internal static class ConversationAffinity
{
    public const string Header = "x-session-affinity";

    public static string? KeyOf(JsonObject request)
    {
        ArgumentNullException.ThrowIfNull(request);
        if (JsonProperties.String(request["prompt_cache_key"]) is { Length: > 0 } key)
        {
            return "key:" + key;
        }

        var prefix = new StringBuilder();
        foreach (var message in (request["messages"] as JsonArray ?? []).OfType<JsonObject>())
        {
            var role = JsonProperties.String(message["role"]);
            if (role is "system" or "developer" or "user")
            {
                prefix.Append(role).Append(':').Append(message["content"]?.ToJsonString()).Append('\n');
            }

            if (role == "user")
            {
                break;
            }
        }

        if (prefix.Length == 0)
        {
            return null;
        }

        prefix.Append(request["tools"]?.ToJsonString());
        return "prefix:" + Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(prefix.ToString())).AsSpan(0, 12));
    }
}
