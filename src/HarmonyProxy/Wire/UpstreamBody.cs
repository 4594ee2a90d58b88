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
/// received the bytes, as it does after a direct read, once the copy waits on its write (so the
/// reader can let it go on to the next chunk at once), and the bytes are copied once, from
/// HttpClient's buffer into the reader's.
/// </remarks>
internal sealed partial class UpstreamBody : IValueTaskSource<int>, IAsyncDisposable
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
    private int _deliveredToWaitingRead = -1;

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
        if (TryRead(destination, out var read))
        {
            return new ValueTask<int>(read);
        }

        lock (_lock)
        {
            // The copy may have offered a piece since: it did not find the read waiting.
            if (TryTakeOffered(destination.Span, out read))
            {
                return new ValueTask<int>(read);
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
        bool resumeCopy;
        lock (_lock)
        {
            if (TryTakeOffered(destination.Span, out read))
            {
                return true;
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
            return TryTakeOffered(destination.Span, out read) || (_ended && _failure is null);
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

    private bool TryTakeOffered(Span<byte> destination, out int read)
    {
        read = _offered.IsEmpty ? 0 : TakeOffered(destination);
        return read > 0;
    }

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
                _deliveredToWaitingRead = TakeOffered(_readDestination.Span);
                _readDestination = default;
            }

            _copyWaiting = true;
            _intake.Reset();
        }

        return _intake.Wait();
    }

    /// <summary>
    /// Wakes the read a piece was delivered to, once the copy waits on its write: woken earlier,
    /// inside the copy's own call, the reader could not let the copy go on to the chunks already
    /// in HttpClient's buffer, and a backlog would leave one event per write.
    /// </summary>
    private void WakeReadAfterCopyWaits()
    {
        int delivered;
        lock (_lock)
        {
            delivered = _deliveredToWaitingRead;
            _deliveredToWaitingRead = -1;
        }

        if (delivered >= 0)
        {
            _read.SetResult(delivered);
        }
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
}
