using System.Buffers;

namespace HarmonyProxy.Wire;

/// <summary>
/// Entries of llama-server's <c>logprobs.content</c> arrays, kept as the JSON bytes they came
/// in and joined into one array: upstream's chunks and the client's need not line up, but no
/// entry is lost or reordered.
/// </summary>
internal sealed class LogprobEntries
{
    private readonly ArrayBufferWriter<byte> _entries = new(256);

    public bool IsEmpty => _entries.WrittenCount == 0;

    /// <summary>Adds the entries of one JSON array (<c>[{…},{…}]</c>); an empty array adds nothing.</summary>
    public void Add(ReadOnlySpan<byte> arrayJson)
    {
        var inner = arrayJson.Trim(" \t\r\n"u8);
        if (inner.Length < 2 || inner[0] != (byte)'[' || inner[^1] != (byte)']')
        {
            return;
        }

        inner = inner[1..^1].Trim(" \t\r\n"u8);
        if (inner.IsEmpty)
        {
            return;
        }

        if (!IsEmpty)
        {
            _entries.Write(","u8);
        }

        _entries.Write(inner);
    }

    /// <summary>Writes <c>{"content":[…entries…]}</c>.</summary>
    public void WriteObject(IBufferWriter<byte> output)
    {
        output.Write("{\"content\":["u8);
        output.Write(_entries.WrittenSpan);
        output.Write("]}"u8);
    }

    public void Clear() => _entries.ResetWrittenCount();
}
