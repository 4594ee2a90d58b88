using System.Text;
using System.Text.Json.Nodes;

namespace HarmonyProxy.Setup;

/// <summary>What a client's configuration is made of: the proxy's address, the model, the key (if any).</summary>
/// <param name="Url">The proxy's root (<c>http://127.0.0.1:8081</c>), without <c>/v1</c>.</param>
internal sealed record SetupValues(Uri Url, string Model, string? Key)
{
    /// <summary>The OpenAI-style base URL clients append their routes to.</summary>
    public string ApiBase => new Uri(Url, "/v1").ToString();

    /// <summary>A key is always sent by these clients; the proxy without keys ignores it.</summary>
    public string KeyOrPlaceholder => Key ?? "harmony-proxy";
}

/// <summary>One file a client reads, as it should be after the setup.</summary>
/// <param name="Path">Where the client reads it.</param>
/// <param name="Text">The whole file: an existing JSON file with the proxy's entries merged in, else the proxy's own.</param>
internal sealed record ConfigFile(string Path, string Text);

/// <summary>
/// The configuration each client reads to use this proxy, where it reads it; pure (the caller
/// reads the existing files and writes the results). JSON files are merged into what is there;
/// TOML and YAML files are written whole (the old one is kept as a backup).
/// </summary>
internal static class ClientConfigs
{
    public static readonly IReadOnlyList<string> Clients = ["codex", "claude", "opencode", "continue", "cline", "kilo", "qwen"];

    /// <summary>The files for <paramref name="client"/> under <paramref name="home"/>; empty for a client that keeps its settings where no file reaches (Cline: the instructions say what to enter).</summary>
    public static IReadOnlyList<ConfigFile> For(string client, SetupValues values, string home, Func<string, string?> existing)
    {
        ArgumentNullException.ThrowIfNull(values);
        ArgumentNullException.ThrowIfNull(existing);
        string Under(params string[] parts) => System.IO.Path.Combine([home, .. parts]);
        return client switch
        {
            "codex" => [new(Under(".codex", "config.toml"), Codex(values))],
            "claude" => [new(Under(".claude", "settings.json"), Merge(existing(Under(".claude", "settings.json")), Claude(values)))],
            "opencode" => [new(Under(".config", "opencode", "opencode.json"), Merge(existing(Under(".config", "opencode", "opencode.json")), OpenCode(values)))],
            "continue" => [new(Under(".continue", "config.yaml"), Continue(values))],
            "kilo" => [new(Under("harmony-proxy-kilo-settings.json"), Kilo(values).ToJsonString(Indented))],
            "qwen" => [new(Under(".qwen", ".env"), QwenEnv(existing(Under(".qwen", ".env")), values)),
                       new(Under(".qwen", "settings.json"), Merge(existing(Under(".qwen", "settings.json")), Qwen()))],
            "cline" => [],
            _ => throw new ArgumentException($"Unknown client '{client}'; one of: {string.Join(", ", Clients)}.", nameof(client)),
        };
    }

    /// <summary>What to do next, for a person: where the file is read, what to enter where no file reaches.</summary>
    public static string Instructions(string client, SetupValues values)
    {
        ArgumentNullException.ThrowIfNull(values);
        return client switch
        {
            "codex" => $"Run: codex -m {values.Model}{(values.Key is null ? string.Empty : " (with HARMONY_PROXY_API_KEY set to your key)")}. Codex speaks the Responses API (wire_api = \"responses\").",
            "claude" => "Start claude: its settings.json env sends it to the proxy's /v1/messages.",
            "opencode" => $"Run: opencode -m harmony-proxy/{values.Model}",
            "continue" => "Reload Continue: the model is in config.yaml with tool use on (agent mode).",
            "kilo" => "In Kilo Code: Settings → About → Import settings, and pick this file.",
            "qwen" => $"Run: qwen -m {values.Model} (OPENAI_BASE_URL and the key are in ~/.qwen/.env).",
            "cline" => $"Cline keeps its provider in VS Code's storage, where no file reaches. In Cline's settings choose API Provider \"OpenAI Compatible\", Base URL {values.ApiBase}, API Key {values.KeyOrPlaceholder}, Model ID {values.Model}, and turn native tool calling on.",
            _ => string.Empty,
        };
    }

    private static readonly System.Text.Json.JsonSerializerOptions Indented = new() { WriteIndented = true, Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    private static string Codex(SetupValues values)
    {
        var text = new StringBuilder();
        text.Append("# Written by HarmonyProxy setup codex: gpt-oss on llama.cpp through HarmonyProxy.\n");
        text.Append($"model = {Quoted(values.Model)}\n");
        text.Append("model_provider = \"harmony-proxy\"\n\n");
        text.Append("[model_providers.harmony-proxy]\n");
        text.Append("name = \"HarmonyProxy (gpt-oss on llama.cpp)\"\n");
        text.Append($"base_url = {Quoted(values.ApiBase)}\n");
        text.Append("wire_api = \"responses\"\n");
        if (values.Key is not null)
        {
            text.Append("env_key = \"HARMONY_PROXY_API_KEY\"\n");
        }

        return text.ToString();
    }

    private static JsonObject Claude(SetupValues values) => new()
    {
        ["env"] = new JsonObject
        {
            // Claude Code appends /v1/messages itself.
            ["ANTHROPIC_BASE_URL"] = values.Url.GetLeftPart(UriPartial.Authority),
            ["ANTHROPIC_AUTH_TOKEN"] = values.KeyOrPlaceholder,
            ["ANTHROPIC_MODEL"] = values.Model,
            ["ANTHROPIC_SMALL_FAST_MODEL"] = values.Model,
            ["ANTHROPIC_DEFAULT_HAIKU_MODEL"] = values.Model,
            ["CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC"] = "1",
        },
    };

    private static JsonObject OpenCode(SetupValues values) => new()
    {
        ["$schema"] = "https://opencode.ai/config.json",
        ["provider"] = new JsonObject
        {
            ["harmony-proxy"] = new JsonObject
            {
                ["npm"] = "@ai-sdk/openai-compatible",
                ["name"] = "HarmonyProxy",
                ["options"] = new JsonObject { ["baseURL"] = values.ApiBase, ["apiKey"] = values.KeyOrPlaceholder },
                ["models"] = new JsonObject { [values.Model] = new JsonObject { ["name"] = values.Model, ["tool_call"] = true, ["reasoning"] = true } },
            },
        },
        ["model"] = "harmony-proxy/" + values.Model,
    };

    private static string Continue(SetupValues values) =>
        "# Written by HarmonyProxy setup continue: gpt-oss on llama.cpp through HarmonyProxy.\n"
        + "name: HarmonyProxy\nversion: 1.0.0\nschema: v1\nmodels:\n"
        + $"  - name: {Quoted(values.Model + " (HarmonyProxy)")}\n    provider: openai\n    model: {Quoted(values.Model)}\n"
        + $"    apiBase: {Quoted(values.ApiBase)}\n    apiKey: {Quoted(values.KeyOrPlaceholder)}\n"
        + "    roles:\n      - chat\n      - edit\n      - apply\n    capabilities:\n      - tool_use\n";

    /// <summary>Kilo Code's (and Roo Code's) settings export, which its "Import settings" reads.</summary>
    private static JsonObject Kilo(SetupValues values) => new()
    {
        ["providerProfiles"] = new JsonObject
        {
            ["currentApiConfigName"] = "harmony-proxy",
            ["apiConfigs"] = new JsonObject
            {
                ["harmony-proxy"] = new JsonObject
                {
                    ["apiProvider"] = "openai",
                    ["openAiBaseUrl"] = values.ApiBase,
                    ["openAiApiKey"] = values.KeyOrPlaceholder,
                    ["openAiModelId"] = values.Model,
                    ["openAiStreamingEnabled"] = true,
                    ["id"] = "harmony-proxy",
                },
            },
        },
        ["globalSettings"] = new JsonObject(),
    };

    private static JsonObject Qwen() => new() { ["security"] = new JsonObject { ["auth"] = new JsonObject { ["selectedType"] = "openai" } } };

    /// <summary>Qwen Code's <c>.env</c>: its OpenAI variables set, every other line kept.</summary>
    private static string QwenEnv(string? existing, SetupValues values)
    {
        var ours = new Dictionary<string, string>(StringComparer.Ordinal)
        {
            ["OPENAI_BASE_URL"] = values.ApiBase,
            ["OPENAI_API_KEY"] = values.KeyOrPlaceholder,
            ["OPENAI_MODEL"] = values.Model,
        };
        var lines = (existing ?? string.Empty).Split('\n', StringSplitOptions.RemoveEmptyEntries)
            .Where(line => !ours.Keys.Any(name => line.TrimStart().StartsWith(name + "=", StringComparison.Ordinal)));
        return string.Join('\n', lines.Concat(ours.Select(pair => $"{pair.Key}={pair.Value}"))) + "\n";
    }

    /// <summary>The proxy's entries merged into the JSON there is, object by object; what is not the proxy's stays.</summary>
    private static string Merge(string? existing, JsonObject ours)
    {
        var target = existing is { Length: > 0 } && JsonNode.Parse(existing, documentOptions: new() { CommentHandling = System.Text.Json.JsonCommentHandling.Skip, AllowTrailingCommas = true }) is JsonObject found ? found : [];
        MergeInto(target, ours);
        return target.ToJsonString(Indented) + "\n";
    }

    private static void MergeInto(JsonObject target, JsonObject source)
    {
        foreach (var (name, value) in source.ToList())
        {
            if (value is JsonObject nested && target[name] is JsonObject there)
            {
                MergeInto(there, nested);
            }
            else
            {
                target[name] = value?.DeepClone();
            }
        }
    }

    /// <summary>A double-quoted string, read the same by TOML and YAML (backslash and quote escaped).</summary>
    private static string Quoted(string text) => "\"" + text.Replace("\\", "\\\\", StringComparison.Ordinal).Replace("\"", "\\\"", StringComparison.Ordinal) + "\"";
}
