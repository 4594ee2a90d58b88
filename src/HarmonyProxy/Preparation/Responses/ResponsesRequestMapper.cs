using System.Text.Json;
using System.Text.Json.Nodes;
using HarmonyProxy.Preparation;
using HarmonyProxy.Wire;
using HarmonyProxy.Wire.Responses;

namespace HarmonyProxy.Preparation.Responses;

/// <summary>
/// Turns a Responses API request into the one chat completion request llama-server understands:
/// <c>instructions</c> and the <c>input</c> items become messages (an assistant turn's reasoning,
/// text and calls join one assistant message; tool outputs become <c>tool</c> messages), tools
/// map through <see cref="ResponsesTools"/>, and the sampling and format options take their chat
/// names. Replayed reasoning is read from its sealed blob, else from its text; the request preparer
/// then applies Harmony's rule (<see cref="ReasoningRetention"/>). Pure: JSON in, JSON out.
/// </summary>
internal static partial class ResponsesRequestMapper
{
    /// <param name="request">The client's body.</param>
    /// <param name="previousConversation">The items of the stored response named by <c>previous_response_id</c> (its input and output), or null.</param>
    /// <param name="unseal">Reads a reasoning item's <c>encrypted_content</c>; null when it cannot (tampered, foreign, expired).</param>
    /// <param name="problem">Why the request is refused, or null.</param>
    public static ResponsesRequest? Map(JsonObject request, JsonArray? previousConversation, Func<string, string?> unseal, out RequestProblem? problem)
    {
        ArgumentNullException.ThrowIfNull(request);
        ArgumentNullException.ThrowIfNull(unseal);
        problem = Validate(request);
        if (problem is not null)
        {
            return null;
        }

        var tools = ResponsesTools.FromRequest(request["tools"] as JsonArray, out var toolProblem);
        if (toolProblem is not null)
        {
            problem = Invalid(toolProblem, "tools", "invalid_value");
            return null;
        }

        var conversation = new JsonArray();
        foreach (var item in previousConversation ?? [])
        {
            conversation.Add(item?.DeepClone());
        }

        if (request["input"] is JsonValue text)
        {
            conversation.AddNode(new JsonObject { ["type"] = "message", ["role"] = "user", ["content"] = text.GetValue<string>() });
        }
        else
        {
            foreach (var item in (JsonArray)request["input"]!)
            {
                conversation.Add(item?.DeepClone());
            }
        }

        var messages = new JsonArray();
        if (JsonProperties.String(request["instructions"]) is { Length: > 0 } instructions)
        {
            messages.AddNode(new JsonObject { ["role"] = "system", ["content"] = instructions });
        }

        var history = new ResponsesHistory(messages, unseal);
        for (var i = 0; i < conversation.Count; i++)
        {
            if (!history.Add((JsonObject)conversation[i]!, out var itemProblem))
            {
                problem = Invalid(itemProblem!, $"input[{i}]", "invalid_value");
                return null;
            }
        }

        history.Flush();
        if (messages.Count == 0)
        {
            // Every item was of a kind llama-server has nothing to render as (item_reference…).
            problem = Invalid($"'input' holds nothing llama-server can be given: no message, call or tool output, only items that are left out ({string.Join(", ", history.Omitted.Distinct(StringComparer.Ordinal))}).", "input", "invalid_value");
            return null;
        }

        var chat = new JsonObject
        {
            ["model"] = request["model"]?.DeepClone(),
            ["messages"] = messages,
        };
        if (tools.ChatTools.Count > 0)
        {
            chat["tools"] = tools.ChatTools;
            chat["tool_choice"] = ChatToolChoice(request["tool_choice"]);
        }

        CopyOptions(request, chat);
        var stream = request["stream"] is JsonValue streamFlag && streamFlag.GetValueKind() == JsonValueKind.True;
        chat["stream"] = stream;
        if (stream)
        {
            // Usage always: response.completed carries it.
            chat["stream_options"] = new JsonObject { ["include_usage"] = true };
        }

        var include = request["include"] as JsonArray;
        return new ResponsesRequest(
            chat,
            tools,
            Stream: stream,
            Store: request["store"] is not JsonValue store || store.GetValueKind() != JsonValueKind.False,
            IncludeEncryptedReasoning: include?.Any(entry => JsonProperties.String(entry) == "reasoning.encrypted_content") == true,
            PreviousResponseId: JsonProperties.String(request["previous_response_id"]),
            Conversation: conversation,
            Echo: Echo(request),
            OmittedItems: history.Omitted,
            UnreadableReasoning: history.UnreadableReasoning);
    }

    private static RequestProblem Invalid(string message, string param, string code) => new(400, message, param, code);
}
