using System.Text;
using System.Text.Json;

namespace HarmonyProxy.Wire.Responses;

/// <summary>The kinds of output item a gpt-oss turn produces.</summary>
internal enum ResponseItemKind
{
    Reasoning,
    Message,
    FunctionCall,
    CustomToolCall,
}

/// <summary>One output item as it grows: its id stays the same from <c>output_item.added</c> to the stored response.</summary>
internal sealed class ResponseItem(ResponseItemKind kind, string id, int outputIndex)
{
    public ResponseItemKind Kind { get; } = kind;

    public string Id { get; } = id;

    public int OutputIndex { get; } = outputIndex;

    /// <summary>Reasoning or answer text, or a call's arguments as they came.</summary>
    public StringBuilder Text { get; } = new();

    public string? CallId { get; init; }

    public ResponsesToolName? Tool { get; init; }

    /// <summary><c>in_progress</c> until done, then <c>completed</c> or <c>incomplete</c>.</summary>
    public string Status { get; set; } = "in_progress";

    /// <summary>The sealed reasoning, when the client asked for <c>reasoning.encrypted_content</c>.</summary>
    public string? EncryptedContent { get; set; }

    /// <summary>A custom tool's raw input, read from the <c>{"input": …}</c> arguments once the call is done.</summary>
    public string? CustomInput { get; set; }

    public bool Done => Status != "in_progress";

    /// <summary>Writes the item as OpenAI does; while in progress, with empty content.</summary>
    public void Write(Utf8JsonWriter json, bool withEncryptedContent)
    {
        json.WriteStartObject();
        json.WriteString("id"u8, Id);
        switch (Kind)
        {
            case ResponseItemKind.Reasoning:
                json.WriteString("type"u8, "reasoning"u8);
                json.WriteStartArray("summary"u8);
                json.WriteEndArray();
                json.WriteStartArray("content"u8);
                if (Done)
                {
                    json.WriteStartObject();
                    json.WriteString("type"u8, "reasoning_text"u8);
                    json.WriteString("text"u8, Text.ToString());
                    json.WriteEndObject();
                }

                json.WriteEndArray();
                if (withEncryptedContent)
                {
                    json.WriteString("encrypted_content"u8, EncryptedContent);
                }

                break;
            case ResponseItemKind.Message:
                json.WriteString("type"u8, "message"u8);
                json.WriteString("role"u8, "assistant"u8);
                json.WriteStartArray("content"u8);
                if (Done)
                {
                    WriteTextPart(json, Text.ToString());
                }

                json.WriteEndArray();
                break;
            case ResponseItemKind.FunctionCall:
                json.WriteString("type"u8, "function_call"u8);
                json.WriteString("call_id"u8, CallId);
                WriteName(json);
                json.WriteString("arguments"u8, Done ? Text.ToString() : string.Empty);
                break;
            case ResponseItemKind.CustomToolCall:
                json.WriteString("type"u8, "custom_tool_call"u8);
                json.WriteString("call_id"u8, CallId);
                WriteName(json);
                json.WriteString("input"u8, Done ? CustomInput ?? string.Empty : string.Empty);
                break;
        }

        if (Kind != ResponseItemKind.CustomToolCall)
        {
            // OpenAI's custom_tool_call carries no status.
            json.WriteString("status"u8, Status);
        }

        json.WriteEndObject();
    }

    /// <summary>An <c>output_text</c> part (no annotations, no log probabilities).</summary>
    public static void WriteTextPart(Utf8JsonWriter json, string text)
    {
        ArgumentNullException.ThrowIfNull(json);
        json.WriteStartObject();
        json.WriteString("type"u8, "output_text"u8);
        json.WriteString("text"u8, text);
        json.WriteStartArray("annotations"u8);
        json.WriteEndArray();
        json.WriteStartArray("logprobs"u8);
        json.WriteEndArray();
        json.WriteEndObject();
    }

    /// <summary>A custom tool's input from the arguments the model wrote: <c>{"input": "…"}</c>, else the text as it is.</summary>
    public static string CustomInputOf(string arguments)
    {
        try
        {
            using var document = JsonDocument.Parse(arguments);
            if (document.RootElement.ValueKind == JsonValueKind.Object)
            {
                foreach (var property in document.RootElement.EnumerateObject())
                {
                    if (property.Value.ValueKind == JsonValueKind.String && (property.NameEquals(ResponsesTools.CustomInputParameter) || document.RootElement.GetPropertyCount() == 1))
                    {
                        return JsonProperties.Text(property.Value)!;
                    }
                }
            }
        }
        catch (JsonException)
        {
            // Not JSON: the model wrote the raw input itself, which is what the tool wants.
        }

        return arguments;
    }

    private void WriteName(Utf8JsonWriter json)
    {
        json.WriteString("name"u8, Tool?.Name);
        if (Tool?.Namespace is { } group)
        {
            json.WriteString("namespace"u8, group);
        }
    }
}
