using System.Text.Json;

namespace HarmonyProxy.OpenAi;

/// <summary>Optional properties of llama-server's bodies, read leniently: a missing or mistyped one is null.</summary>
internal static class JsonProperties
{
    public static string? String(JsonElement element, string name) =>
        element.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.String ? value.GetString() : null;

    public static int? Int(JsonElement element, string name) =>
        element.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.Number && value.TryGetInt32(out var number) ? number : null;
}
