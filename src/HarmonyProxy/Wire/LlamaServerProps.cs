using System.Text.Json;

namespace HarmonyProxy.Wire;

/// <summary>
/// What llama-server's <c>GET /props</c> says about its setup (llama-server.md §4.7). Every
/// field is optional: older builds lack some of them.
/// </summary>
/// <param name="Build"><c>build_info</c>, e.g. <c>b8681-Debian</c>.</param>
/// <param name="Model"><c>model_alias</c>, else the file name of <c>model_path</c>.</param>
/// <param name="ContextSize"><c>default_generation_settings.n_ctx</c>: the context of one slot.</param>
/// <param name="TotalSlots"><c>total_slots</c>: requests decoded at once (<c>-np</c>).</param>
/// <param name="ChatTemplate"><c>chat_template</c>: the Jinja text the prompt is rendered with.</param>
/// <param name="Vision"><c>modalities.vision</c>: whether it was started with a vision projector (<c>--mmproj</c>) and so reads images.</param>
internal sealed record LlamaServerProps(string? Build, string? Model, int? ContextSize, int? TotalSlots, string? ChatTemplate, bool? Vision = null)
{
    /// <summary>True when the template renders Harmony (gpt-oss's holds <c>&lt;|channel|&gt;</c>); null when the build did not say.</summary>
    public bool? TemplateIsGptOss => ChatTemplate is null ? null : ChatTemplate.Contains("<|channel|>", StringComparison.Ordinal);

    /// <summary>Reads a <c>/props</c> body; null when it is not a JSON object.</summary>
    public static LlamaServerProps? Parse(ReadOnlyMemory<byte> utf8)
    {
        try
        {
            using var document = JsonDocument.Parse(utf8, new JsonDocumentOptions { MaxDepth = 64 });
            var root = document.RootElement;
            if (root.ValueKind != JsonValueKind.Object)
            {
                return null;
            }

            var model = JsonProperties.String(root, "model_alias") is { Length: > 0 } alias ? alias : FileName(JsonProperties.String(root, "model_path"));
            var context = root.TryGetProperty("default_generation_settings", out var settings) && settings.ValueKind == JsonValueKind.Object
                ? JsonProperties.Int(settings, "n_ctx")
                : null;
            var vision = root.TryGetProperty("modalities", out var modalities) && modalities.ValueKind == JsonValueKind.Object
                && modalities.TryGetProperty("vision", out var visionFlag) && visionFlag.ValueKind is JsonValueKind.True or JsonValueKind.False
                ? visionFlag.ValueKind == JsonValueKind.True
                : (bool?)null;
            return new LlamaServerProps(JsonProperties.String(root, "build_info"), model, context, JsonProperties.Int(root, "total_slots"), JsonProperties.String(root, "chat_template"), vision);
        }
        catch (JsonException)
        {
            return null;
        }
    }

    private static string? FileName(string? path) =>
        string.IsNullOrEmpty(path) ? null : path[(path.LastIndexOfAny(['/', '\\']) + 1)..];
}
