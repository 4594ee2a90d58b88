using System.Threading.Tasks.Sources;

namespace HarmonyProxy.Wire;

/// <summary>
/// The upstream's response body, read on demand through the body's own
/// <see cref="Stream.CopyToAsync(Stream, int, CancellationToken)"/>: the copy hands each piece it
/// has to the reader and waits until the reader has taken all of it and asks for more, so the body
/// is read exactly when a direct read would read it, and nothing is read ahead.
/// </summary>
/// <remarks>
/// HttpClient's chunked body allocates a state-machine box for every <c>ReadAsync</c> that has to
/// wait for data (one per token, 176 bytes, measured with bench/alloc-trace.sh), while its
/// <c>CopyToAsync</c> is one async method for the whole body. The hand-over here is two reusable
/// value-task sources, one for each side, completed inline: the reader resumes on the thread that
/// received the bytes, as it does after a direct read, and the bytes are copied once, from
/// HttpClient's buffer into the reader's.
/// </remarks>
internal sealed class UpstreamBody : IValueTaskSource<int>, IAsyncDisposable
{
    private readonly Stream _body;
    private readonly Lock _lock = new();
    private readonly Intake _intake;
    private readonly CancellationTokenSource _stop = new();
    private Task? _pumping;

    // The reader's side: a read waiting for bytes, and where they go.
    private ManualResetValueTaskSourceCore<int> _read;
    private CancellationTokenRegistration _readCancellation;
    private Memory<byte> _readDestination;
    private bool _readWaiting;

    // The copy's side: the part of its piece the reader has not taken yet, and whether it waits.
    private ReadOnlyMemory<byte> _offered;
    private bool _copyWaiting;

    private bool _ended;
    private Exception? _failure;
    private bool _disposed;

    public UpstreamBody(Stream body)
    {
        _body = body;
        _intake = new Intake(this);
    }

    /// <summary>Reads what the body has into <paramref name="destination"/>, waiting for it if it has nothing yet; 0 when the body has ended.</summary>
    public ValueTask<int> ReadAsync(Memory<byte> destination, CancellationToken cancellationToken)
    {
        if (cancellationToken.IsCancellationRequested)
        {
            return ValueTask.FromCanceled<int>(cancellationToken);
        }

        // Started by the first read, so the body is first read when the reader first asks.
        _pumping ??= PumpAsync();
        bool resumeCopy;
        lock (_lock)
        {
            if (!_offered.IsEmpty)
            {
                return new ValueTask<int>(TakeOffered(destination.Span));
            }

            resumeCopy = _copyWaiting;
            _copyWaiting = false;
        }

        // The copy goes on (here, inline): it reads the body and may offer the next piece at once.
        if (resumeCopy)
        {
            _intake.Resume();
        }

        lock (_lock)
        {
            if (!_offered.IsEmpty)
            {
                return new ValueTask<int>(TakeOffered(destination.Span));
            }

            if (_ended)
            {
                return _failure is null ? new ValueTask<int>(0) : ValueTask.FromException<int>(_failure);
            }

            _read.Reset();
            _readWaiting = true;
            _readDestination = destination;
            _readCancellation = cancellationToken.UnsafeRegister(static (state, token) => ((UpstreamBody)state!).CancelRead(token), this);
            return new ValueTask<int>(this, _read.Version);
        }
    }

    /// <summary>
    /// Takes what the body has without waiting for the network: the rest of the piece offered, else
    /// the copy goes on (inline) and what it offers at once; false when it has to wait (it reads on,
    /// and the next <see cref="ReadAsync"/> gets the bytes) or the body failed (that read throws).
    /// </summary>
    public bool TryRead(Memory<byte> destination, out int read)
    {
        read = 0;
        bool resumeCopy;
        lock (_lock)
        {
            if (!_offered.IsEmpty)
            {
                read = TakeOffered(destination.Span);
                return true;
            }

            resumeCopy = _copyWaiting;
            _copyWaiting = false;
        }

        if (resumeCopy)
        {
            _intake.Resume();
        }

        lock (_lock)
        {
            if (!_offered.IsEmpty)
            {
                read = TakeOffered(destination.Span);
                return true;
            }

            return _ended && _failure is null;
        }
    }

    public async ValueTask DisposeAsync()
    {
        bool stopCopy;
        lock (_lock)
        {
            _disposed = true;
            stopCopy = _copyWaiting;
            _copyWaiting = false;
        }

        if (stopCopy)
        {
            _intake.Stop();
        }

        if (_pumping is not null)
        {
            await _stop.CancelAsync();
            await _pumping;
        }

        await _body.DisposeAsync();
        _stop.Dispose();
    }

    int IValueTaskSource<int>.GetResult(short token)
    {
        try
        {
            return _read.GetResult(token);
        }
        finally
        {
            _readCancellation.Dispose();
            _readCancellation = default;
        }
    }

    ValueTaskSourceStatus IValueTaskSource<int>.GetStatus(short token) => _read.GetStatus(token);

    void IValueTaskSource<int>.OnCompleted(Action<object?> continuation, object? state, short token, ValueTaskSourceOnCompletedFlags flags) =>
        _read.OnCompleted(continuation, state, token, flags);

    private int TakeOffered(Span<byte> destination)
    {
        var length = Math.Min(_offered.Length, destination.Length);
        _offered.Span[..length].CopyTo(destination);
        _offered = _offered[length..];
        return length;
    }

    /// <summary>A piece from the copy: straight to a waiting read, the rest kept until the reader takes it.</summary>
    private ValueTask Offer(ReadOnlyMemory<byte> piece)
    {
        var delivered = -1;
        lock (_lock)
        {
            if (_disposed)
            {
                return ValueTask.FromCanceled(new CancellationToken(canceled: true));
            }

            _offered = piece;
            if (_readWaiting)
            {
                _readWaiting = false;
                delivered = TakeOffered(_readDestination.Span);
                _readDestination = default;
            }

            _copyWaiting = true;
            _intake.Reset();
        }

        var waitForReader = _intake.Wait();
        if (delivered >= 0)
        {
            _read.SetResult(delivered);
        }

        return waitForReader;
    }

    private void CancelRead(CancellationToken token)
    {
        lock (_lock)
        {
            if (!_readWaiting)
            {
                return;
            }

            _readWaiting = false;
            _readDestination = default;
        }

        _read.SetException(new OperationCanceledException(token));
    }

    /// <summary>The body, piece by piece, to the reader; how it ended (an upstream reset, say) is what the reader's next read throws.</summary>
    private async Task PumpAsync()
    {
        Exception? failure = null;
        try
        {
            await _body.CopyToAsync(_intake, _stop.Token);
        }
        catch (Exception exception)
        {
            failure = exception;
        }

        bool readWaiting;
        lock (_lock)
        {
            _ended = true;
            _failure = failure;
            readWaiting = _readWaiting;
            _readWaiting = false;
            _readDestination = default;
        }

        if (readWaiting && failure is null)
        {
            _read.SetResult(0);
        }
        else if (readWaiting)
        {
            _read.SetException(failure!);
        }
    }

    /// <summary>The stream the body is copied to: each write is offered to the reader and waits until it has been taken.</summary>
    private sealed class Intake(UpstreamBody owner) : Stream, IValueTaskSource
    {
        private ManualResetValueTaskSourceCore<bool> _taken;

        public override bool CanRead => false;

        public override bool CanSeek => false;

        public override bool CanWrite => true;

        public override long Length => throw new NotSupportedException();

        public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }

        public override ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default) =>
            buffer.IsEmpty ? ValueTask.CompletedTask : owner.Offer(buffer);

        public override Task WriteAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
            WriteAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException("The body is copied asynchronously.");

        public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();

        public override void Flush()
        {
        }

        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

        public override void SetLength(long value) => throw new NotSupportedException();

        public void Reset() => _taken.Reset();

        public ValueTask Wait() => new(this, _taken.Version);

        public void Resume() => _taken.SetResult(true);

        public void Stop() => _taken.SetException(new OperationCanceledException("The upstream body is no longer read."));

        void IValueTaskSource.GetResult(short token) => _taken.GetResult(token);

        ValueTaskSourceStatus IValueTaskSource.GetStatus(short token) => _taken.GetStatus(token);

        void IValueTaskSource.OnCompleted(Action<object?> continuation, object? state, short token, ValueTaskSourceOnCompletedFlags flags) =>
            _taken.OnCompleted(continuation, state, token, flags);
    }
}
