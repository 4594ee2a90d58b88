using System.Text.Json;

namespace HarmonyProxy.Wire;

/// <summary>One model a llama-server offers: its id, its aliases, and (router mode) whether it is loaded.</summary>
/// <param name="Status">Router mode's <c>loaded</c>, <c>loading</c>, <c>unloaded</c> or <c>sleeping</c>; null for a server of one model (loaded while it answers).</param>
internal sealed record LlamaServerModel(string Id, IReadOnlyList<string> Aliases, string? Status)
{
    /// <summary>The status to show: a server of one model has it loaded.</summary>
    public string State => Status ?? LlamaServerModels.Loaded;

    public bool Answers(string name) =>
        string.Equals(Id, name, StringComparison.OrdinalIgnoreCase) || Aliases.Any(alias => string.Equals(alias, name, StringComparison.OrdinalIgnoreCase));
}

/// <summary>
/// llama-server's model list (<c>GET /v1/models</c>, llama-server.md §4.5): <c>data[].id</c> and
/// <c>aliases</c>; in router mode each entry's <c>status</c> (an object with <c>value</c>, or a
/// string) says whether it is loaded.
/// </summary>
internal static class LlamaServerModels
{
    public const string Loaded = "loaded";

    /// <summary>The models listed, or null when the body is no model list.</summary>
    public static IReadOnlyList<LlamaServerModel>? Parse(ReadOnlySpan<byte> body)
    {
        try
        {
            var reader = new Utf8JsonReader(body);
            using var document = JsonDocument.ParseValue(ref reader);
            if (document.RootElement.ValueKind != JsonValueKind.Object || !document.RootElement.TryGetProperty("data", out var data) || data.ValueKind != JsonValueKind.Array)
            {
                return null;
            }

            var models = new List<LlamaServerModel>();
            foreach (var entry in data.EnumerateArray())
            {
                if (entry.ValueKind == JsonValueKind.Object && entry.TryGetProperty("id", out var id) && id.ValueKind == JsonValueKind.String && id.GetString() is { Length: > 0 } name)
                {
                    models.Add(new LlamaServerModel(name, Strings(entry, "aliases"), Status(entry)));
                }
            }

            return models;
        }
        catch (JsonException)
        {
            return null;
        }
    }

    private static List<string> Strings(JsonElement entry, string property) =>
        entry.TryGetProperty(property, out var list) && list.ValueKind == JsonValueKind.Array
            ? list.EnumerateArray().Where(item => item.ValueKind == JsonValueKind.String).Select(item => item.GetString()!).ToList()
            : [];

    private static string? Status(JsonElement entry) =>
        !entry.TryGetProperty("status", out var status) ? null
        : status.ValueKind == JsonValueKind.String ? status.GetString()
        : status.ValueKind == JsonValueKind.Object && status.TryGetProperty("value", out var value) && value.ValueKind == JsonValueKind.String ? value.GetString()
        : null;
}
