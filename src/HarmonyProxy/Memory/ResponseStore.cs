using System.Buffers;
using System.Text;
using System.Text.Json;
using HarmonyProxy.Memory;
using HarmonyProxy.Wire;

namespace HarmonyProxy.Memory;

/// <summary>A stored response: what <c>GET</c> returns and what <c>previous_response_id</c> continues.</summary>
/// <param name="Response">The response object as JSON.</param>
/// <param name="Conversation">Every item of the conversation up to and including this response's output, as a JSON array.</param>
internal sealed record StoredResponse(byte[] Response, byte[] Conversation);

/// <summary>
/// Stored responses (<c>store: true</c>), in the same bounded store as the reasoning memory (in
/// this process or on Redis), under the client's identity: only the client that created a
/// response finds it.
/// </summary>
internal sealed class ResponseStore(IConversationStore store)
{
    public async ValueTask PutAsync(string owner, string id, StoredResponse response, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(response);
        var buffer = new ArrayBufferWriter<byte>(response.Response.Length + response.Conversation.Length + 32);
        using (var json = new Utf8JsonWriter(buffer, OpenAiJson.WriterOptions))
        {
            json.WriteStartObject();
            json.WritePropertyName("response"u8);
            json.WriteRawValue(response.Response, skipInputValidation: true);
            json.WritePropertyName("conversation"u8);
            json.WriteRawValue(response.Conversation, skipInputValidation: true);
            json.WriteEndObject();
        }

        await store.SetAsync(owner, Key(owner, id), buffer.WrittenSpan.ToArray(), cancellationToken);
    }

    public async ValueTask<StoredResponse?> GetAsync(string owner, string id, CancellationToken cancellationToken)
    {
        if (await store.GetAsync(Key(owner, id), cancellationToken) is not { } bytes)
        {
            return null;
        }

        using var document = JsonDocument.Parse(bytes);
        return new StoredResponse(
            Encoding.UTF8.GetBytes(document.RootElement.GetProperty("response").GetRawText()),
            Encoding.UTF8.GetBytes(document.RootElement.GetProperty("conversation").GetRawText()));
    }

    public ValueTask<bool> DeleteAsync(string owner, string id, CancellationToken cancellationToken) =>
        store.RemoveAsync(Key(owner, id), cancellationToken);

    private static string Key(string owner, string id) => $"response:{owner}:{id}";
}
