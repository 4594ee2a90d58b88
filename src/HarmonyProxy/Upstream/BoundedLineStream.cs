using System.Runtime.CompilerServices;

namespace HarmonyProxy.Upstream;

/// <summary>
/// Wraps the upstream body and fails the read when one line grows past a limit: .NET 10's
/// SseParser has no line cap (about 1 GiB implicitly), so a broken or hostile upstream that
/// never ends a line would otherwise grow memory until the idle watchdog fires.
/// </summary>
public sealed class BoundedLineStream(Stream inner, int maxLineBytes) : Stream
{
    private long _lineBytes;

    public override bool CanRead => true;

    public override bool CanSeek => false;

    public override bool CanWrite => false;

    public override long Length => throw new NotSupportedException();

    public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }

    // Pooled: this read waits for every upstream token, so without pooling it would allocate a
    // state-machine box per token (a fifth of the relay's bytes allocated, in a trace at 2,000 streams).
    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder<>))]
    public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
    {
        var read = await inner.ReadAsync(buffer, cancellationToken);
        Count(buffer.Span[..read]);
        return read;
    }

    public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        ReadAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    public override int Read(byte[] buffer, int offset, int count)
    {
        var read = inner.Read(buffer, offset, count);
        Count(buffer.AsSpan(offset, read));
        return read;
    }

    public override void Flush()
    {
    }

    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

    public override void SetLength(long value) => throw new NotSupportedException();

    public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            inner.Dispose();
        }

        base.Dispose(disposing);
    }

    private void Count(ReadOnlySpan<byte> data)
    {
        var lastNewline = data.LastIndexOf((byte)'\n');
        _lineBytes = lastNewline >= 0 ? data.Length - lastNewline - 1 : _lineBytes + data.Length;
        if (_lineBytes > maxLineBytes)
        {
            throw new IOException($"An upstream event line exceeded {maxLineBytes} bytes.");
        }
    }
}
