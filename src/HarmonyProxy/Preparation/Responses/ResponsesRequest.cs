using System.Text.Json.Nodes;
using HarmonyProxy.Wire.Responses;

namespace HarmonyProxy.Preparation.Responses;

/// <summary>A <c>POST /v1/responses</c> request, mapped to one chat request for llama-server.</summary>
/// <param name="ChatRequest">The chat completion request (messages, tools, options), ready for the request preparer.</param>
/// <param name="Tools">The tool names both ways.</param>
/// <param name="Stream">The client asked for SSE.</param>
/// <param name="Store">The response is kept for <c>GET</c> and <c>previous_response_id</c> (OpenAI's default).</param>
/// <param name="IncludeEncryptedReasoning">The client asked for <c>reasoning.encrypted_content</c>.</param>
/// <param name="PreviousResponseId">The stored response this request continues, or null.</param>
/// <param name="Conversation">Every input item of the conversation so far (a continued one's included), for the store.</param>
/// <param name="Echo">The request's settings a response object repeats (instructions, tools, text…), as JSON properties.</param>
/// <param name="OmittedItems">Input item types left out because llama-server has nothing to render them as.</param>
/// <param name="UnreadableReasoning">Replayed <c>encrypted_content</c> blobs that failed to decrypt (tampered, foreign, expired).</param>
internal sealed record ResponsesRequest(
    JsonObject ChatRequest,
    ResponsesTools Tools,
    bool Stream,
    bool Store,
    bool IncludeEncryptedReasoning,
    string? PreviousResponseId,
    JsonArray Conversation,
    JsonObject Echo,
    IReadOnlyList<string> OmittedItems,
    int UnreadableReasoning);
