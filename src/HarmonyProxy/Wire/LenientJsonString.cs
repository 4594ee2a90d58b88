using System.Buffers;
using System.Globalization;
using System.Text;

namespace HarmonyProxy.Wire;

/// <summary>
/// Decodes a JSON string's escaped bytes the way a forgiving reader would: a lone surrogate
/// escape (<c>\ud800</c>) or invalid UTF-8 becomes U+FFFD instead of an exception. Used only
/// after <see cref="System.Text.Json.Utf8JsonReader"/> refused a string, so bad text from
/// upstream never cuts a stream.
/// </summary>
internal static class LenientJsonString
{
    /// <summary>The most chars <paramref name="escapedBytes"/> escaped bytes can decode to: one per byte.</summary>
    public static int MaxChars(int escapedBytes) => escapedBytes;

    /// <summary>Decodes the bytes between a JSON string's quotes into <paramref name="destination"/>; returns the chars written.</summary>
    public static int Decode(ReadOnlySpan<byte> escaped, Span<char> destination)
    {
        var written = 0;
        var index = 0;
        while (index < escaped.Length)
        {
            var backslash = escaped[index..].IndexOf((byte)'\\');
            var run = backslash < 0 ? escaped[index..] : escaped[index..(index + backslash)];
            // UTF8Encoding's default replacement fallback turns invalid bytes into U+FFFD.
            written += Encoding.UTF8.GetChars(run, destination[written..]);
            index += run.Length;
            if (backslash < 0)
            {
                break;
            }

            index++;
            if (index >= escaped.Length)
            {
                destination[written++] = '\uFFFD';
                break;
            }

            var escape = escaped[index++];
            if (escape != (byte)'u')
            {
                destination[written++] = escape switch
                {
                    (byte)'"' => '"',
                    (byte)'\\' => '\\',
                    (byte)'/' => '/',
                    (byte)'b' => '\b',
                    (byte)'f' => '\f',
                    (byte)'n' => '\n',
                    (byte)'r' => '\r',
                    (byte)'t' => '\t',
                    _ => '\uFFFD',
                };
                continue;
            }

            if (!TryHex(escaped, index, out var unit))
            {
                destination[written++] = '\uFFFD';
                continue;
            }

            index += 4;
            if (char.IsHighSurrogate(unit) && index + 6 <= escaped.Length && escaped[index] == (byte)'\\' && escaped[index + 1] == (byte)'u'
                && TryHex(escaped, index + 2, out var low) && char.IsLowSurrogate(low))
            {
                destination[written++] = unit;
                destination[written++] = low;
                index += 6;
            }
            else
            {
                destination[written++] = char.IsSurrogate(unit) ? '\uFFFD' : unit;
            }
        }

        return written;
    }

    public static string Decode(ReadOnlySpan<byte> escaped)
    {
        var buffer = ArrayPool<char>.Shared.Rent(Math.Max(1, MaxChars(escaped.Length)));
        try
        {
            return new string(buffer, 0, Decode(escaped, buffer));
        }
        finally
        {
            ArrayPool<char>.Shared.Return(buffer);
        }
    }

    private static bool TryHex(ReadOnlySpan<byte> escaped, int start, out char unit)
    {
        unit = '\0';
        if (start + 4 > escaped.Length
            || !ushort.TryParse(Encoding.ASCII.GetString(escaped.Slice(start, 4)), NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out var value))
        {
            return false;
        }

        unit = (char)value;
        return true;
    }
}
