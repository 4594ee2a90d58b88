using System.Buffers;
using System.Runtime.CompilerServices;

namespace HarmonyProxy.Wire;

/// <summary>
/// Reads the upstream's server-sent events straight from the response body: each
/// <see cref="ReadAsync"/> yields one event's data as UTF-8 bytes (<see cref="Data"/>, valid until
/// the next call). Framing follows the SSE spec: lines end with LF, CR or CRLF, a leading BOM is
/// skipped, comment lines and fields other than <c>data</c> are ignored (the translator reads only
/// the payload) except older llama-server builds' <c>error</c> field, handed out as
/// <c>{"error":…}</c>; several data lines join with LF, and an event the body ends in the middle
/// of is discarded. A line or an event longer than the limit fails the read with an
/// <see cref="UpstreamEventTooLargeException"/>, so an upstream that never ends a line cannot grow memory.
/// </summary>
/// <remarks>
/// This replaces SseParser behind a line-counting stream: waiting for a token is one pooled async
/// method here instead of an async iterator, a parser fill and a wrapper read, which allocated a
/// state-machine box per token (a third of the relay's garbage at 2,000 streams). The body is read
/// through <see cref="UpstreamBody"/>, for the same reason one layer down.
/// </remarks>
internal sealed partial class UpstreamEventReader(Stream body, int maxEventBytes) : IAsyncDisposable
{
    private const int InitialBufferBytes = 1024;
    private const byte CR = (byte)'\r';
    private const byte LF = (byte)'\n';

    private readonly UpstreamBody _body = new(body);
    private byte[] _buffer = ArrayPool<byte>.Shared.Rent(InitialBufferBytes);
    private int _start;
    private int _end;
    private int _searched;
    private bool _endOfBody;
    private bool _bomChecked;

    private byte[]? _data;
    private int _dataLength;
    private bool _dataAppended;

    private byte[] _currentArray = [];
    private int _currentOffset;
    private int _currentLength;

    /// <summary>The data of the event the last <see cref="ReadAsync"/> returned.</summary>
    public ReadOnlySpan<byte> Data => _currentArray.AsSpan(_currentOffset, _currentLength);

    /// <summary>
    /// Moves to the next event if it has already arrived (in memory here, or in HttpClient's buffer
    /// or the socket's), without waiting for the network: false when the next event has still to
    /// come (then <see cref="ReadAsync"/> waits for it). HttpClient hands its chunked body over one
    /// chunk, that is one event, at a time: taking what has arrived here keeps a backlog in one
    /// write to the client.
    /// </summary>
    public bool TryReadBuffered()
    {
        ReleaseCurrent();
        try
        {
            return TryTakeArrivedEvent();
        }
        catch (UpstreamEventTooLargeException)
        {
            // Left for ReadAsync, which finds it again: the events before it reach the client first.
            return false;
        }
    }

    private bool TryTakeArrivedEvent()
    {
        while (!TryTakeEvent())
        {
            if (_endOfBody)
            {
                return false;
            }

            MakeRoom();
            if (!_body.TryRead(_buffer.AsMemory(_end), out var read))
            {
                return false;
            }

            _endOfBody = read == 0;
            _end += read;
        }

        return true;
    }

    /// <summary>Moves to the next event; false when the body has ended.</summary>
    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder<>))]
    public async ValueTask<bool> ReadAsync(CancellationToken cancellationToken)
    {
        ReleaseCurrent();
        if (TryTakeArrivedEvent())
        {
            return true;
        }

        do
        {
            if (_endOfBody)
            {
                return false;
            }

            MakeRoom();
            var read = await _body.ReadAsync(_buffer.AsMemory(_end), cancellationToken);
            if (read == 0)
            {
                _endOfBody = true;
            }

            _end += read;
        }
        while (!TryTakeEvent());

        return true;
    }

    /// <summary>The whole body, for an upstream that answered with one JSON document instead of events.</summary>
    public async ValueTask<ReadOnlyMemory<byte>> ReadToEndAsync(CancellationToken cancellationToken)
    {
        while (true)
        {
            MakeRoom();
            var read = await _body.ReadAsync(_buffer.AsMemory(_end), cancellationToken);
            if (read == 0)
            {
                return _buffer.AsMemory(_start, _end - _start);
            }

            _end += read;
            if (_end - _start > maxEventBytes)
            {
                throw new UpstreamEventTooLargeException($"The upstream completion exceeded {maxEventBytes} bytes.");
            }
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _body.DisposeAsync();
        ArrayPool<byte>.Shared.Return(_buffer);
        _buffer = [];
        if (_data is not null)
        {
            ArrayPool<byte>.Shared.Return(_data);
            _data = null;
        }
    }

    private bool TryTakeEvent()
    {
        if (!_bomChecked && !TrySkipBom())
        {
            return false;
        }

        while (true)
        {
            var pending = _buffer.AsSpan(_start, _end - _start);
            var found = pending[_searched..].IndexOfAny(CR, LF);

            // A line still without its end counts whole: an upstream that never ends one fails here.
            var lineLength = found < 0 ? pending.Length : _searched + found;
            if (lineLength > maxEventBytes)
            {
                throw new UpstreamEventTooLargeException($"An upstream event line exceeded {maxEventBytes} bytes.");
            }

            if (found < 0)
            {
                _searched = pending.Length;
                return false;
            }

            var terminator = LineEndLength(pending, lineLength);
            if (terminator == 0)
            {
                _searched = lineLength;
                return false;
            }

            var lineStart = _start;
            _start += lineLength + terminator;
            _searched = 0;
            if (ProcessLine(lineStart, lineLength))
            {
                return true;
            }
        }
    }

    /// <summary>Applies one line; true when it completed an event (now <see cref="Data"/>).</summary>
    private bool ProcessLine(int offset, int length)
    {
        var line = _buffer.AsSpan(offset, length);
        if (line.IsEmpty)
        {
            if (!_dataAppended)
            {
                return false;
            }

            SetCurrent(_data!, 0, _dataLength);
            return true;
        }

        var colon = line.IndexOf((byte)':');
        var name = colon < 0 ? line : line[..colon];
        var valueOffset = colon < 0 ? length : colon + 1;
        if (valueOffset < length && line[valueOffset] == (byte)' ')
        {
            valueOffset++;
        }

        if (name.SequenceEqual("error"u8))
        {
            // llama-server before Sep 2025 (llama.cpp #16109) sent mid-stream errors as a bare
            // `error: {…}` field and then [DONE]: handed out as the data `{"error":{…}}` that
            // current builds send, so the error is not mistaken for a clean end.
            AppendData([.. "{\"error\":"u8, .. line[valueOffset..], (byte)'}']);
            return false;
        }

        if (!name.SequenceEqual("data"u8))
        {
            return false;
        }

        // The usual event is one data line and its blank line in the same read: hand out the
        // bytes where they are instead of copying them into the data buffer.
        if (!_dataAppended && TrySkipBlankLine())
        {
            SetCurrent(_buffer, offset + valueOffset, length - valueOffset);
            return true;
        }

        AppendData(line[valueOffset..]);
        return false;
    }

    private bool TrySkipBlankLine()
    {
        var pending = _buffer.AsSpan(_start, _end - _start);
        if (pending.IsEmpty || pending[0] is not (CR or LF))
        {
            return false;
        }

        var terminator = LineEndLength(pending, 0);
        _start += terminator;
        return terminator > 0;
    }

    /// <summary>
    /// The length of the line end at <paramref name="index"/> (a CR or an LF): 2 for CRLF, else 1;
    /// 0 when it is a CR that is the last byte read and the body goes on, as its LF may be next.
    /// </summary>
    private int LineEndLength(ReadOnlySpan<byte> pending, int index)
    {
        if (pending[index] == LF)
        {
            return 1;
        }

        if (index + 1 < pending.Length)
        {
            return pending[index + 1] == LF ? 2 : 1;
        }

        return _endOfBody ? 1 : 0;
    }
}

/// <summary>An upstream event or line longer than the reader's bound; an <see cref="IOException"/>, so a caller that only knows broken reads still ends the attempt.</summary>
internal sealed class UpstreamEventTooLargeException(string message) : IOException(message);
