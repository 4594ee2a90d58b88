using System.Text;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;

namespace LlamaServerSim;

/// <summary>One Harmony message of a transcript.</summary>
public sealed record SimMessage(string Channel, string Body, string? Recipient = null);

/// <summary>One generated token as llama-server would emit it in each flavour.</summary>
public sealed record SimToken(string RawText, string Kind, string Text, int MessageIndex);

/// <summary>Built-in gpt-oss transcripts, rendered into llama-server's token stream.</summary>
public static partial class Transcripts
{
    /// <summary>Picks a transcript from the conversation: after a tool result answer it, with tools call one, else answer.</summary>
    public static IReadOnlyList<SimMessage> For(JsonObject request, string? name)
    {
        var messages = request["messages"] as JsonArray;
        var last = messages?.LastOrDefault() as JsonObject;
        var tools = request["tools"] as JsonArray;
        if (name is null && ShellTool(tools) is { } shell)
        {
            return ShellTask(messages!, shell);
        }

        name ??= last?["role"]?.GetValue<string>() == "tool" ? "after_tool"
            : tools is { Count: > 0 } ? "tool_call"
            : "answer";

        var toolName = (tools?.FirstOrDefault() as JsonObject)?["function"]?["name"]?.GetValue<string>() ?? "read_file";
        return name switch
        {
            "tool_call" =>
            [
                new("analysis", $"The user wants information from the project. We should call {toolName} first."),
                new("commentary", ArgumentsFor(tools), "functions." + toolName),
            ],
            "preamble_tool" =>
            [
                new("analysis", "Need to look at the file before answering."),
                new("commentary", "I'll read the file first."),
                new("commentary", ArgumentsFor(tools), "functions." + toolName),
            ],
            "analysis_only" =>
            [
                new("analysis", "The user asks for a long essay. Plan the sections first: history, design, and the open questions."),
            ],
            "after_tool" =>
            [
                new("analysis", "The tool returned the content. Summarize it for the user."),
                new("final", "The tool said: " + Shorten(ToolResult(last))),
            ],
            _ =>
            [
                new("analysis", "The user greets us. We should answer briefly and offer help."),
                new("final", "Hello! I am a simulated gpt-oss behind llama-server. How can I help you today?"),
            ],
        };
    }

    /// <summary>Raw Harmony text as llama-server prints it (stop tokens invisible).</summary>
    public static string Render(IReadOnlyList<SimMessage> messages)
    {
        var text = new StringBuilder();
        for (var i = 0; i < messages.Count; i++)
        {
            var message = messages[i];
            if (i > 0)
            {
                text.Append("<|end|><|start|>assistant");
            }

            text.Append("<|channel|>").Append(message.Channel);
            if (message.Recipient is not null)
            {
                text.Append(" to=").Append(message.Recipient).Append(" <|constrain|>json");
            }

            text.Append("<|message|>").Append(message.Body);
        }

        return text.ToString();
    }

    /// <summary>Splits raw Harmony text into token-sized pieces: each tag is one token, words carry their leading space.</summary>
    public static IEnumerable<string> Tokenize(string raw)
    {
        foreach (Match match in TokenPattern().Matches(raw))
        {
            var piece = match.Value;
            if (piece.StartsWith("<|", StringComparison.Ordinal))
            {
                // A special token is one token.
                yield return piece;
                continue;
            }

            for (var start = 0; start < piece.Length; start += 8)
            {
                yield return piece.Substring(start, Math.Min(8, piece.Length - start));
            }
        }
    }

    /// <summary>The tokens of a structured transcript with what the parsed flavour makes of each.</summary>
    public static IEnumerable<SimToken> Structured(IReadOnlyList<SimMessage> messages)
    {
        for (var i = 0; i < messages.Count; i++)
        {
            var message = messages[i];
            var header = (i > 0 ? "<|end|><|start|>assistant" : string.Empty) + "<|channel|>" + message.Channel
                + (message.Recipient is not null ? " to=" + message.Recipient + " <|constrain|>json" : string.Empty) + "<|message|>";
            foreach (var token in Tokenize(header))
            {
                yield return new SimToken(token, "header", string.Empty, i);
            }

            var kind = message.Recipient is not null ? "tool" : message.Channel == "analysis" ? "reasoning" : "content";
            foreach (var token in Tokenize(message.Body))
            {
                yield return new SimToken(token, kind, token, i);
            }
        }
    }

    /// <summary>The shell tool of a coding agent (Codex's <c>exec_command</c>, Claude Code's <c>Bash</c>), if the request offers one.</summary>
    private static string? ShellTool(JsonArray? tools) =>
        tools?.OfType<JsonObject>().Select(tool => tool["function"]?["name"]?.GetValue<string>()).FirstOrDefault(name => name is "exec_command" or "shell" or "Bash");

    /// <summary>A shell command as the tool takes it: Codex's <c>cmd</c>, Claude Code's <c>command</c> and <c>description</c>.</summary>
    private static string ShellArguments(string tool, string command) => tool == "Bash"
        ? new JsonObject { ["command"] = command, ["description"] = "Run " + command }.ToJsonString()
        : new JsonObject { ["cmd"] = command }.ToJsonString();

    /// <summary>
    /// A two-step agent task, one step per request: write a file with a shell command, read it
    /// back, then answer with what the second command printed. Each step reasons first, so a
    /// client that carries reasoning across the loop shows it in the next request.
    /// </summary>
    private static IReadOnlyList<SimMessage> ShellTask(JsonArray messages, string tool)
    {
        var results = messages.OfType<JsonObject>().Where(message => message["role"]?.GetValue<string>() == "tool").ToList();
        return results.Count switch
        {
            0 =>
            [
                new("analysis", ShellTaskReasoning[0]),
                new("commentary", ShellArguments(tool, "echo harmony-proxy > proof.txt"), "functions." + tool),
            ],
            1 =>
            [
                new("analysis", ShellTaskReasoning[1]),
                new("commentary", ShellArguments(tool, "cat proof.txt"), "functions." + tool),
            ],
            _ =>
            [
                new("analysis", ShellTaskReasoning[2]),
                new("final", "Done: proof.txt holds " + (ToolResult(results[^1]).Contains("harmony-proxy", StringComparison.Ordinal) ? "harmony-proxy" : "something unexpected") + "."),
            ],
        };
    }

    /// <summary>The reasoning of each step of the shell task, for tests that check it was carried back.</summary>
    public static IReadOnlyList<string> ShellTaskReasoning { get; } =
    [
        "The task needs a file written. Use the shell to write proof.txt first.",
        "The file should exist now. Read it back to check its content.",
        "Both commands ran. Report what the file holds.",
    ];

    private static string ArgumentsFor(JsonArray? tools)
    {
        var parameters = (tools?.FirstOrDefault() as JsonObject)?["function"]?["parameters"] as JsonObject;
        var property = (parameters?["properties"] as JsonObject)?.FirstOrDefault().Key ?? "path";
        return new JsonObject { [property] = "README.md" }.ToJsonString();
    }

    private static string ToolResult(JsonObject? message) => message?["content"] switch
    {
        JsonValue value => value.ToString(),
        JsonArray parts => string.Concat(parts.Select(part => part?["text"]?.ToString())),
        _ => "(nothing)",
    };

    private static string Shorten(string text) => text.Length <= 80 ? text : text[..80] + "…";

    [GeneratedRegex(@"<\|[a-z]+\|>|\s*[^\s<]+|\s+|<")]
    private static partial Regex TokenPattern();
}
