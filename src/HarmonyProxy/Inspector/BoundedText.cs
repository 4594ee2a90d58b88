using System.Text;

namespace HarmonyProxy.Inspector;

/// <summary>Text kept up to a limit; what came beyond it is only counted, for the note that says it was cut.</summary>
internal sealed class BoundedText(int limit)
{
    private readonly StringBuilder _text = new();

    /// <summary>Every character offered, kept or not.</summary>
    public long Offered { get; private set; }

    public bool Cut => Offered > _text.Length;

    public bool IsEmpty => Offered == 0;

    public void Append(ReadOnlySpan<char> text)
    {
        Offered += text.Length;
        var room = Math.Min(text.Length, limit - _text.Length);
        if (room > 0)
        {
            _text.Append(text[..room]);
        }
    }

    /// <summary>A body as it came, in UTF-8: only the part that fits is decoded (a character is at most four bytes), the rest only counted.</summary>
    public void Append(ReadOnlySpan<byte> utf8)
    {
        var room = Math.Max(0, limit - _text.Length);
        var kept = Encoding.UTF8.GetString(utf8[..Math.Min(utf8.Length, room * 4)]);
        _text.Append(kept.AsSpan(0, Math.Min(kept.Length, room)));
        Offered += Encoding.UTF8.GetCharCount(utf8);
    }

    public override string ToString() => _text.ToString();
}
