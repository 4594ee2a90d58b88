using System.Text.Encodings.Web;
using System.Text.Json;

namespace HarmonyProxy.OpenAi;

/// <summary>JSON settings shared by everything the proxy writes.</summary>
internal static class OpenAiJson
{
    /// <summary>UTF-8 stays raw (as llama-server sends it); the JSON stays valid.</summary>
    public static readonly JsonWriterOptions WriterOptions = new() { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    /// <summary>Request bodies: bounded depth, comments and trailing commas refused as OpenAI does.</summary>
    public static readonly JsonDocumentOptions DocumentOptions = new() { MaxDepth = 64 };

    public static readonly JsonSerializerOptions SerializerOptions = new(JsonSerializerDefaults.Web)
    {
        Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
    };
}
