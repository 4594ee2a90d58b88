using System.Buffers;
using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace HarmonyProxy.Wire;

/// <summary>JSON settings shared by everything the proxy writes.</summary>
internal static class OpenAiJson
{
    /// <summary>UTF-8 stays raw (as llama-server sends it); the JSON stays valid.</summary>
    public static readonly JsonWriterOptions WriterOptions = new() { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    /// <summary>
    /// Request bodies: bounded depth, comments and trailing commas refused as OpenAI does, and a
    /// key given twice in one object refused at parse time (a JSON object node would otherwise
    /// throw when first read, far from the parse, as a 500).
    /// </summary>
    public static readonly JsonDocumentOptions DocumentOptions = new() { MaxDepth = 64, AllowDuplicateProperties = false };

    public static readonly JsonSerializerOptions SerializerOptions = new(JsonSerializerDefaults.Web)
    {
        Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
    };

    /// <summary>
    /// A JSON tree as UTF-8 bytes, written as <see cref="SerializerOptions"/> would write it, but
    /// without the serializer's reflection, which the Native AOT build does not have.
    /// </summary>
    public static byte[] ToUtf8Bytes(JsonNode node)
    {
        ArgumentNullException.ThrowIfNull(node);
        var buffer = new ArrayBufferWriter<byte>();
        using (var writer = new Utf8JsonWriter(buffer, WriterOptions))
        {
            node.WriteTo(writer);
        }

        return buffer.WrittenSpan.ToArray();
    }

    /// <summary>
    /// Adds a node. <c>JsonArray.Add(new JsonObject())</c> binds to the generic
    /// <c>Add&lt;T&gt;</c>, which wraps values by reflection (refused by the Native AOT build);
    /// typed as a node, the item takes the plain overload. (Not named <c>Append</c>: LINQ's
    /// <c>Append</c> returns a new sequence and would compile silently where this is not imported.)
    /// </summary>
    public static void AddNode(this JsonArray array, JsonNode? item)
    {
        ArgumentNullException.ThrowIfNull(array);
        array.Add(item);
    }
}
