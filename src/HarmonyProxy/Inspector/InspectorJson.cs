using System.Buffers;
using System.Text.Json;
using HarmonyProxy.Diagnostics;
using HarmonyProxy.Wire;

namespace HarmonyProxy.Inspector;

/// <summary>The inspector's JSON (<c>/ui/api/requests</c>, <c>/ui/api/requests/{id}</c>): what the page shows, and what a person can <c>curl</c>.</summary>
internal static class InspectorJson
{
    public static byte[] List(IEnumerable<TraceSnapshot> requests)
    {
        ArgumentNullException.ThrowIfNull(requests);
        return Write(json =>
        {
            json.WriteStartObject();
            json.WriteStartArray("requests");
            foreach (var request in requests)
            {
                json.WriteStartObject();
                Summary(json, request);
                json.WriteEndObject();
            }

            json.WriteEndArray();
            json.WriteEndObject();
        });
    }

    public static byte[] Detail(TraceSnapshot request)
    {
        ArgumentNullException.ThrowIfNull(request);
        return Write(json =>
        {
            json.WriteStartObject();
            Summary(json, request);
            json.WriteStartArray("attemptLog");
            foreach (var attempt in request.Result?.AttemptLog ?? [])
            {
                json.WriteStartObject();
                json.WriteNumber("number", attempt.Number);
                json.WriteString("backend", attempt.Backend);
                json.WriteString("recovery", attempt.Recovery);
                json.WriteString("failure", attempt.Failure);
                json.WriteString("next", attempt.Next);
                json.WriteBoolean("completed", attempt.Completed);
                json.WriteEndObject();
            }

            json.WriteEndArray();
            Body(json, "clientRequest", request.ClientRequest);
            json.WriteStartArray("upstreamRequests");
            foreach (var (attempt, route, body) in request.UpstreamRequests)
            {
                json.WriteStartObject();
                json.WriteNumber("attempt", attempt);
                json.WriteString("route", route);
                BodyFields(json, body);
                json.WriteEndObject();
            }

            json.WriteEndArray();
            Body(json, "upstreamOutput", request.UpstreamOutput);
            if (request.Received is { } received)
            {
                json.WriteStartObject("clientReceived");
                Body(json, "reasoning", received.Reasoning);
                Body(json, "content", received.Content);
                json.WriteStartArray("toolCalls");
                foreach (var (name, arguments) in received.ToolCalls)
                {
                    json.WriteStartObject();
                    json.WriteString("name", name);
                    Body(json, "arguments", arguments);
                    json.WriteEndObject();
                }

                json.WriteEndArray();
                json.WriteStartArray("errors");
                foreach (var error in received.Errors)
                {
                    json.WriteStringValue(error);
                }

                json.WriteEndArray();
                json.WriteEndObject();
            }

            json.WriteEndObject();
        });
    }

    private static void Summary(Utf8JsonWriter json, TraceSnapshot request)
    {
        var trace = request.Trace;
        var result = request.Result;
        json.WriteString("id", trace.Id);
        json.WriteString("time", trace.Started);
        json.WriteString("method", trace.Method);
        json.WriteString("path", trace.Path);
        json.WriteBoolean("done", request.Done);
        json.WriteString("endpoint", result?.Endpoint);
        json.WriteString("client", result?.Client);
        json.WriteString("model", result?.Model);
        if (result?.Stream is { } stream)
        {
            json.WriteBoolean("stream", stream);
        }

        json.WriteString("backend", result?.Backend);
        json.WriteString("flavour", result?.UpstreamFlavour);
        json.WriteNumber("status", request.Status);
        json.WriteString("outcome", result?.Outcome.Name());
        json.WriteString("failure", result?.FailureCode);
        json.WriteNumber("attempts", result?.Attempts ?? 0);
        json.WriteString("recovery", result?.Recovery);
        json.WriteString("finish", result?.FinishReason);
        json.WriteNumber("toolCalls", result?.ToolCalls ?? 0);
        json.WriteNumber("droppedToolCalls", result?.DroppedToolCalls ?? 0);
        if (result?.TimeToFirstToken is { } ttft)
        {
            json.WriteNumber("ttftMs", Math.Round(ttft * 1000, 1));
        }

        if (result?.Tokens is { } tokens)
        {
            json.WriteNumber("promptTokens", tokens.Prompt);
            json.WriteNumber("completionTokens", tokens.Completion);
            var generating = result.DurationSeconds - (result.TimeToFirstToken ?? 0);
            if (generating > 0)
            {
                json.WriteNumber("tokensPerSecond", Math.Round(tokens.Completion / generating, 1));
            }
        }

        if (result is not null)
        {
            json.WriteNumber("durationMs", Math.Round(result.DurationSeconds * 1000, 1));
        }
    }

    private static void Body(Utf8JsonWriter json, string name, KeptBody? body)
    {
        if (body is null)
        {
            return;
        }

        json.WriteStartObject(name);
        BodyFields(json, body);
        json.WriteEndObject();
    }

    private static void BodyFields(Utf8JsonWriter json, KeptBody body)
    {
        json.WriteString("text", body.Text);
        json.WriteBoolean("cut", body.Cut);
        json.WriteNumber("length", body.Length);
        if (body.Cut)
        {
            json.WriteString("note", $"cut at Inspector:MaxBodyBytes; {body.Length} characters in all");
        }
    }

    private static byte[] Write(Action<Utf8JsonWriter> write)
    {
        var buffer = new ArrayBufferWriter<byte>();
        using (var json = new Utf8JsonWriter(buffer, OpenAiJson.WriterOptions))
        {
            write(json);
        }

        return buffer.WrittenSpan.ToArray();
    }
}
