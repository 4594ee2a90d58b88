using System.Buffers;
using HarmonyProxy.Completions;
using Microsoft.AspNetCore.Http.Features;

namespace HarmonyProxy.Endpoints;

/// <summary>
/// The client's SSE response. Chunks are built in a buffer and written with one flush per
/// upstream event; a timer sends <c>: keep-alive</c> comments while the client has been sent
/// nothing for the keep-alive interval (long prompt processing, hidden reasoning), so IDE and
/// load-balancer idle timeouts do not fire. Headers go out with the first write, whichever
/// comes first; until then errors can still be real HTTP errors.
/// </summary>
internal sealed class SseResponse : IAsyncDisposable
{
    private static readonly byte[] KeepAliveComment = SseChunkWriter.KeepAlive.ToArray();

    private readonly HttpContext _context;
    private readonly TimeProvider _time;
    private readonly TimeSpan _keepAlive;
    private readonly SemaphoreSlim _lock = new(1, 1);
    private readonly ITimer _timer;
    private long _lastWrite;
    private bool _disposed;

    public SseResponse(HttpContext context, TimeProvider time, TimeSpan keepAlive)
    {
        _context = context;
        _time = time;
        _keepAlive = keepAlive;
        _lastWrite = time.GetTimestamp();
        _timer = time.CreateTimer(static state => _ = ((SseResponse)state!).KeepAliveAsync(), this, keepAlive, keepAlive);
    }

    /// <summary>Chunks for the next write; one token's chunk is about 200 bytes, and a stream holds this buffer for its whole life.</summary>
    public ArrayBufferWriter<byte> Pending { get; } = new(512);

    /// <summary>True once headers (and possibly bytes) went out: errors must be SSE events from now on.</summary>
    public bool Started => _context.Response.HasStarted;

    /// <summary>Writes and flushes what is pending.</summary>
    public async ValueTask FlushAsync(CancellationToken cancellationToken)
    {
        if (Pending.WrittenCount == 0)
        {
            return;
        }

        await _lock.WaitAsync(cancellationToken);
        try
        {
            Start();
            await _context.Response.BodyWriter.WriteAsync(Pending.WrittenMemory, cancellationToken);
            Pending.ResetWrittenCount();
            _lastWrite = _time.GetTimestamp();
        }
        finally
        {
            _lock.Release();
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _lock.WaitAsync();
        _disposed = true;
        _lock.Release();
        await _timer.DisposeAsync();
        _lock.Dispose();
    }

    private async Task KeepAliveAsync()
    {
        try
        {
            if (!await _lock.WaitAsync(0))
            {
                return;
            }

            try
            {
                if (_disposed || _context.RequestAborted.IsCancellationRequested || _time.GetElapsedTime(_lastWrite) < _keepAlive * 0.9)
                {
                    return;
                }

                Start();
                await _context.Response.BodyWriter.WriteAsync(KeepAliveComment, _context.RequestAborted);
                _lastWrite = _time.GetTimestamp();
            }
            finally
            {
                _lock.Release();
            }
        }
        catch (Exception exception) when (exception is OperationCanceledException or IOException or ObjectDisposedException or InvalidOperationException)
        {
            // The client went away or the response already ended; nothing to keep alive.
        }
    }

    private void Start()
    {
        var response = _context.Response;
        if (response.HasStarted)
        {
            return;
        }

        response.StatusCode = StatusCodes.Status200OK;
        response.ContentType = "text/event-stream";
        response.Headers.CacheControl = "no-cache";
        response.Headers["X-Accel-Buffering"] = "no";
        _context.Features.Get<IHttpResponseBodyFeature>()?.DisableBuffering();
    }
}
