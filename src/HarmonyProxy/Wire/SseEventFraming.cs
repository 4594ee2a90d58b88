using System.Buffers;
using System.Text.Json;

namespace HarmonyProxy.Wire;

/// <summary>
/// The framing of a named SSE event whose data is a JSON object typed by its name, as both the
/// Responses API and Anthropic's Messages API send them: <c>event: name</c>, <c>data: {"type":"name",…}</c>
/// and a blank line. The writer is reset onto the event buffer, so an event's fields follow
/// <see cref="Start"/> and the event ends with <see cref="End"/>.
/// </summary>
internal static class SseEventFraming
{
    public static void Start(IBufferWriter<byte> events, Utf8JsonWriter json, ReadOnlySpan<byte> name)
    {
        ArgumentNullException.ThrowIfNull(events);
        ArgumentNullException.ThrowIfNull(json);
        events.Write("event: "u8);
        events.Write(name);
        events.Write("\ndata: "u8);
        json.Reset(events);
        json.WriteStartObject();
        json.WriteString("type"u8, name);
    }

    public static void End(IBufferWriter<byte> events, Utf8JsonWriter json)
    {
        ArgumentNullException.ThrowIfNull(events);
        ArgumentNullException.ThrowIfNull(json);
        json.WriteEndObject();
        json.Flush();
        events.Write("\n\n"u8);
    }
}
