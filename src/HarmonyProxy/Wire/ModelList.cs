using System.Buffers;
using System.Text.Json;

namespace HarmonyProxy.Wire;

/// <summary>The OpenAI model list (<c>GET /v1/models</c>) of the models several llama-servers serve together.</summary>
internal static class ModelList
{
    /// <param name="created">The Unix time every entry carries (llama-server gives its own start).</param>
    public static byte[] Write(IEnumerable<LlamaServerModel> models, long created)
    {
        ArgumentNullException.ThrowIfNull(models);
        var buffer = new ArrayBufferWriter<byte>();
        using (var json = new Utf8JsonWriter(buffer, OpenAiJson.WriterOptions))
        {
            json.WriteStartObject();
            json.WriteString("object", "list");
            json.WriteStartArray("data");
            foreach (var model in models)
            {
                json.WriteStartObject();
                json.WriteString("id", model.Id);
                json.WriteString("object", "model");
                json.WriteNumber("created", created);
                json.WriteString("owned_by", "llamacpp");
                if (model.Aliases.Count > 0)
                {
                    json.WriteStartArray("aliases");
                    foreach (var alias in model.Aliases)
                    {
                        json.WriteStringValue(alias);
                    }

                    json.WriteEndArray();
                }

                if (model.Status is { } status)
                {
                    json.WriteStartObject("status");
                    json.WriteString("value", status);
                    json.WriteEndObject();
                }

                json.WriteEndObject();
            }

            json.WriteEndArray();
            json.WriteEndObject();
        }

        return buffer.WrittenSpan.ToArray();
    }
}
