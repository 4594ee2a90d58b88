using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace HarmonyProxy.Wire.Responses;

/// <summary>What a chat function name the model calls stands for in the Responses request.</summary>
/// <param name="Name">The tool's own name.</param>
/// <param name="Namespace">The <c>namespace</c> group it came from, or null.</param>
/// <param name="Custom">A <c>custom</c> (freeform) tool: its call is a <c>custom_tool_call</c> with a raw <c>input</c>.</param>
internal sealed record ResponsesToolName(string Name, string? Namespace, bool Custom);

/// <summary>
/// The Responses API's tools as chat functions llama-server can offer gpt-oss, and the way back.
/// <c>function</c> tools map one to one; a <c>custom</c> tool becomes a function with one string
/// parameter, <c>input</c>; a <c>namespace</c> group is flattened to <c>group__name</c> (cut to
/// 64 characters with a hash when longer). Tools only OpenAI's servers run (web search, file
/// search, image generation, computer use, hosted MCP, tool search…) are left out and reported.
/// </summary>
internal sealed class ResponsesTools
{
    public const string CustomInputParameter = "input";

    private const int MaxNameLength = 64;

    private readonly Dictionary<string, ResponsesToolName> _byChatName = new(StringComparer.Ordinal);

    private ResponsesTools()
    {
    }

    public static ResponsesTools None { get; } = new();

    /// <summary>The chat <c>tools</c> array for llama-server.</summary>
    public JsonArray ChatTools { get; } = [];

    /// <summary>The types of the tools left out (one entry per tool), for the log line and the metric.</summary>
    public IReadOnlyList<string> Omitted => _omitted;

    private readonly List<string> _omitted = [];

    /// <summary>Maps the request's <c>tools</c>; a problem for a tool that is not an object or has no name.</summary>
    public static ResponsesTools FromRequest(JsonArray? tools, out string? problem)
    {
        var map = new ResponsesTools();
        problem = null;
        foreach (var node in tools ?? [])
        {
            if (node is not JsonObject tool || JsonProperties.String(tool["type"]) is not { } type)
            {
                problem = "Every entry of 'tools' must be an object with a string 'type'.";
                return map;
            }

            switch (type)
            {
                case "function" or "custom":
                    problem = map.Add(tool, null);
                    break;
                case "namespace":
                    var group = JsonProperties.String(tool["name"]);
                    if (group is null)
                    {
                        problem = "A 'namespace' tool needs a string 'name'.";
                        break;
                    }

                    foreach (var member in (tool["tools"] as JsonArray ?? []).OfType<JsonObject>())
                    {
                        problem ??= JsonProperties.String(member["type"]) is "function" or "custom" ? map.Add(member, group) : null;
                    }

                    break;
                default:
                    map._omitted.Add(type);
                    break;
            }

            if (problem is not null)
            {
                return map;
            }
        }

        return map;
    }

    /// <summary>What the model's call of <paramref name="chatName"/> is, in the client's terms (a plain function when unknown).</summary>
    public ResponsesToolName Resolve(string chatName) =>
        _byChatName.TryGetValue(chatName, out var name) ? name : new ResponsesToolName(chatName, null, false);

    /// <summary>The chat function name of a tool: its own name, or <c>group__name</c>; always a valid OpenAI function name.</summary>
    public static string ChatName(string name, string? group)
    {
        ArgumentNullException.ThrowIfNull(name);
        var joined = group is null ? name : group + "__" + name;
        var builder = new StringBuilder(joined.Length);
        foreach (var c in joined)
        {
            builder.Append(char.IsAsciiLetterOrDigit(c) || c is '_' or '-' ? c : '_');
        }

        if (builder.Length == 0)
        {
            builder.Append('_');
        }

        if (builder.Length <= MaxNameLength)
        {
            return builder.ToString();
        }

        // Cut, but keep names apart: the hash of the whole name ends the cut one.
        var hash = Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(joined)).AsSpan(0, 4));
        return builder.ToString(0, MaxNameLength - 9) + "_" + hash;
    }

    private string? Add(JsonObject tool, string? group)
    {
        var name = JsonProperties.String(tool["name"]);
        if (name is null)
        {
            return "Every 'function' and 'custom' tool needs a string 'name'.";
        }

        var custom = JsonProperties.String(tool["type"]) == "custom";
        var chatName = ChatName(name, group);
        _byChatName[chatName] = new ResponsesToolName(name, group, custom);
        var function = new JsonObject { ["name"] = chatName };
        if (custom)
        {
            function["description"] = CustomDescription(tool);
            function["parameters"] = new JsonObject
            {
                ["type"] = "object",
                ["properties"] = new JsonObject
                {
                    [CustomInputParameter] = new JsonObject { ["type"] = "string", ["description"] = "The tool's raw input text." },
                },
                ["required"] = new JsonArray(CustomInputParameter),
            };
        }
        else
        {
            if (tool["description"] is JsonValue description)
            {
                function["description"] = description.DeepClone();
            }

            function["parameters"] = tool["parameters"] is JsonObject parameters
                ? parameters.DeepClone()
                : new JsonObject { ["type"] = "object", ["properties"] = new JsonObject() };
            if (tool["strict"] is JsonValue strict && strict.GetValueKind() == JsonValueKind.True)
            {
                function["strict"] = true;
            }
        }

        ChatTools.AddNode(new JsonObject { ["type"] = "function", ["function"] = function });
        return null;
    }

    /// <summary>A freeform tool's description with its grammar, which the model must follow in <c>input</c>.</summary>
    private static string CustomDescription(JsonObject tool)
    {
        var text = JsonProperties.String(tool["description"]) ?? string.Empty;
        if (tool["format"] is JsonObject format && JsonProperties.String(format["type"]) == "grammar" && JsonProperties.String(format["definition"]) is { } definition)
        {
            text += $"\n\nThe input is raw text (not JSON) in this {JsonProperties.String(format["syntax"]) ?? "grammar"} grammar:\n{definition}";
        }

        return text;
    }
}
