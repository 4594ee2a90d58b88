using System.Text;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Http.Features;

namespace LlamaServerSim;

/// <summary>A chat completion as llama-server writes it: streamed one delta per token (faults where the script puts them), or whole.</summary>
public sealed partial class LlamaServerSimulator
{
    private async Task StreamAsync(HttpContext context, SimScript script, List<SimToken> tokens, SimFlavour flavour, string finish, bool includeUsage, SimPrompt prompt, string toolName)
    {
        var cancellation = context.RequestAborted;
        var id = "chatcmpl-" + RandomString(32);
        var toolId = RandomString(32);
        var rate = script.TokensPerSecond ?? Options.TokensPerSecond;
        var delay = rate > 0 ? TimeSpan.FromSeconds(1 / rate) : TimeSpan.Zero;

        if (script.StallBeforeFirstToken > TimeSpan.Zero)
        {
            await Task.Delay(script.StallBeforeFirstToken, cancellation);
        }

        // llama-server commits headers with its first result (PR #16486).
        context.Response.ContentType = "text/event-stream";
        context.Response.Headers["Server"] = "llama.cpp";
        context.Features.Get<IHttpResponseBodyFeature>()?.DisableBuffering();

        var sent = 0;
        var toolStarted = false;
        var pending = new StringBuilder();
        pending.Append(Event(Chunk(id, new JsonObject { ["role"] = "assistant", ["content"] = null }, null)));
        for (var i = 0; i < tokens.Count; i++)
        {
            var token = tokens[i];
            if (script.Gate is not null)
            {
                await script.Gate(i, cancellation);
            }
            else if (delay > TimeSpan.Zero && i > 0)
            {
                await Task.Delay(delay, cancellation);
            }

            if (script.StallAfterTokens == i)
            {
                await Task.Delay(script.StallDuration, cancellation);
            }

            if (script.ErrorAfterTokens == i)
            {
                if (script.LegacyErrorFraming)
                {
                    // Builds before Sep 2025 (llama-server.md §4.3): a bare error field, then [DONE].
                    pending.Append("error: ").Append(Error(script.ErrorMessage, ErrorType(script.ErrorCode), script.ErrorCode)["error"]!.ToJsonString(Compact)).Append("\n\n");
                    pending.Append(LlamaServerSse.Done);
                }
                else
                {
                    pending.Append(Event(new JsonObject { ["error"] = Error(script.ErrorMessage, ErrorType(script.ErrorCode), script.ErrorCode)["error"]!.DeepClone() }));
                }

                await WriteAsync(context, pending, cancellation);
                return;
            }

            if (script.ResetAfterTokens == i)
            {
                await WriteAsync(context, pending, cancellation);
                context.Abort();
                return;
            }

            var delta = DeltaFor(token, flavour, toolId, toolName, ref toolStarted);
            if (delta is not null)
            {
                pending.Append(Event(Chunk(id, delta, null)));
            }

            sent++;
            if (pending.Length > 0)
            {
                await WriteAsync(context, pending, cancellation);
            }

            script.OnTokenSent?.Invoke(i);
        }

        var timings = Timings(prompt, sent);
        var finishChunk = Chunk(id, new JsonObject(), finish);
        if (!includeUsage || Options.OmitUsage)
        {
            finishChunk["timings"] = timings;
        }

        pending.Append(Event(finishChunk));
        if (includeUsage && !Options.OmitUsage)
        {
            var usage = Chunk(id, null, null);
            usage["choices"] = new JsonArray();
            usage["usage"] = Usage(prompt, sent);
            usage["timings"] = timings;
            pending.Append(Event(usage));
        }

        pending.Append(LlamaServerSse.Done);
        await WriteAsync(context, pending, cancellation);
    }

    private static JsonObject? DeltaFor(SimToken token, SimFlavour flavour, string toolId, string toolName, ref bool toolStarted)
    {
        switch (flavour)
        {
            case SimFlavour.Raw:
                return new JsonObject { ["content"] = token.RawText };
            case SimFlavour.Stripped:
                var visible = token.RawText.StartsWith("<|", StringComparison.Ordinal) ? string.Empty : token.RawText;
                return visible.Length == 0 ? null : new JsonObject { ["content"] = visible };
        }

        switch (token.Kind)
        {
            case "reasoning":
                return new JsonObject { ["reasoning_content"] = token.Text };
            case "content":
                return new JsonObject { ["content"] = token.Text };
            case "tool":
                var call = new JsonObject { ["index"] = 0 };
                if (!toolStarted)
                {
                    toolStarted = true;
                    call["id"] = toolId;
                    call["type"] = "function";
                    call["function"] = new JsonObject { ["name"] = toolName, ["arguments"] = token.Text };
                }
                else
                {
                    call["function"] = new JsonObject { ["arguments"] = token.Text };
                }

                return new JsonObject { ["tool_calls"] = new JsonArray(call) };
            default:
                return null;
        }
    }

    private static List<SimToken> BuildTokens(JsonObject request, SimScript script, SimFlavour flavour, out string toolName)
    {
        toolName = "tool";
        if (script.RawText is not null)
        {
            return Transcripts.Tokenize(script.RawText).Select(token => new SimToken(token, "raw", token, 0)).ToList();
        }

        var messages = Transcripts.For(request, script.Transcript);
        toolName = messages.FirstOrDefault(message => message.Recipient is not null)?.Recipient?["functions.".Length..] ?? "tool";
        return flavour == SimFlavour.Parsed
            ? Transcripts.Structured(messages).ToList()
            : Transcripts.Tokenize(Transcripts.Render(messages)).Select(token => new SimToken(token, "raw", token, 0)).ToList();
    }

    private async Task WriteWholeAsync(HttpContext context, List<SimToken> tokens, SimFlavour flavour, string finish, SimPrompt prompt, string toolName)
    {
        var message = new JsonObject { ["role"] = "assistant" };
        if (flavour == SimFlavour.Parsed)
        {
            var reasoning = string.Concat(tokens.Where(token => token.Kind == "reasoning").Select(token => token.Text));
            var content = string.Concat(tokens.Where(token => token.Kind == "content").Select(token => token.Text));
            var arguments = string.Concat(tokens.Where(token => token.Kind == "tool").Select(token => token.Text));
            if (reasoning.Length > 0)
            {
                message["reasoning_content"] = reasoning;
            }

            message["content"] = content.Length > 0 ? content : null;
            if (arguments.Length > 0)
            {
                message["tool_calls"] = new JsonArray(new JsonObject
                {
                    ["type"] = "function",
                    ["function"] = new JsonObject { ["name"] = toolName, ["arguments"] = arguments },
                    ["id"] = RandomString(32),
                });
            }
        }
        else
        {
            message["content"] = string.Concat(tokens.Select(token => flavour == SimFlavour.Stripped && token.RawText.StartsWith("<|", StringComparison.Ordinal) ? string.Empty : token.RawText));
        }

        var body = new JsonObject
        {
            ["choices"] = new JsonArray(new JsonObject { ["finish_reason"] = finish, ["index"] = 0, ["message"] = message }),
            ["created"] = DateTimeOffset.UtcNow.ToUnixTimeSeconds(),
            ["model"] = Options.Model,
            ["system_fingerprint"] = Fingerprint,
            ["object"] = "chat.completion",
            ["usage"] = Usage(prompt, tokens.Count),
            ["id"] = "chatcmpl-" + RandomString(32),
            ["timings"] = Timings(prompt, tokens.Count),
        };
        context.Response.ContentType = "application/json; charset=utf-8";
        await context.Response.WriteAsync(body.ToJsonString(Compact), context.RequestAborted);
    }

    private JsonObject Chunk(string id, JsonObject? delta, string? finish)
    {
        var chunk = new JsonObject();
        if (delta is not null)
        {
            chunk["choices"] = new JsonArray(new JsonObject { ["finish_reason"] = finish, ["index"] = 0, ["delta"] = delta });
        }

        chunk["created"] = DateTimeOffset.UtcNow.ToUnixTimeSeconds();
        chunk["id"] = id;
        chunk["model"] = Options.Model;
        chunk["system_fingerprint"] = Fingerprint;
        chunk["object"] = "chat.completion.chunk";
        return chunk;
    }

    private static string Event(JsonObject payload) => LlamaServerSse.Event(payload.ToJsonString(Compact));

    private static async Task WriteAsync(HttpContext context, StringBuilder pending, CancellationToken cancellation)
    {
        await context.Response.WriteAsync(pending.ToString(), cancellation);
        await context.Response.Body.FlushAsync(cancellation);
        pending.Clear();
    }
}
