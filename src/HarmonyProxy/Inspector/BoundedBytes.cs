using System.Text;

namespace HarmonyProxy.Inspector;

/// <summary>Bytes kept up to a limit; what came beyond it is only counted, for the note that says it was cut.</summary>
internal sealed class BoundedBytes(int limit)
{
    private byte[] _bytes = [];
    private int _count;

    /// <summary>Every byte offered, kept or not.</summary>
    public long Offered { get; private set; }

    public bool Cut => Offered > _count;

    public void Append(ReadOnlySpan<byte> bytes)
    {
        Offered += bytes.Length;
        var room = Math.Min(bytes.Length, limit - _count);
        if (room <= 0)
        {
            return;
        }

        if (_count + room > _bytes.Length)
        {
            Array.Resize(ref _bytes, Math.Min(limit, Math.Max(_count + room, Math.Max(256, _bytes.Length * 2))));
        }

        bytes[..room].CopyTo(_bytes.AsSpan(_count));
        _count += room;
    }

    /// <summary>The kept bytes as text (a character cut in two at the limit becomes U+FFFD).</summary>
    public string Text() => Encoding.UTF8.GetString(_bytes, 0, _count);
}
