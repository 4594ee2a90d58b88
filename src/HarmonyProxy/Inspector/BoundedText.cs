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

    public void Append(ReadOnlySpan<byte> utf8)
    {
        var chars = Encoding.UTF8.GetCharCount(utf8);
        var room = limit - _text.Length;
        if (chars <= room)
        {
            Offered += chars;
            _text.Append(Encoding.UTF8.GetString(utf8));
            return;
        }

        Offered += chars;
        if (room > 0)
        {
            _text.Append(Encoding.UTF8.GetString(utf8).AsSpan(0, room));
        }
    }

    public override string ToString() => _text.ToString();
}
