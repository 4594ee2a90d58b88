using System.Buffers;
using HarmonyProxy.Completions;
using HarmonyProxy.Forwarding;
using HarmonyProxy.Upstream;
using HarmonyProxy.Wire;
using Microsoft.AspNetCore.Http.Features;

namespace HarmonyProxy.Endpoints;

/// <summary>
/// What the client receives, in either mode: SSE events (streaming) or one JSON body. It owns,
/// under one lock, the answer to "has anything been sent" and everything that depends on it:
/// restarting before output, keep-alive comments, an error (an HTTP error before anything was
/// sent, one error event after) and the final write. A streaming response's headers go out with
/// its first event or keep-alive, whichever comes first; until then errors are real HTTP errors.
/// </summary>
/// <remarks>
/// A timer sends <c>: keep-alive</c> comments while the client has been sent nothing for the
/// keep-alive interval (long prompt processing, hidden reasoning), so IDE and load-balancer idle
/// timeouts do not fire. Events are built in <see cref="_pending"/> and written with one flush per
/// upstream read (<see cref="CompletionRelay"/>).
/// </remarks>
internal sealed class ClientResponse : IClientChannel, IAsyncDisposable
{
    private readonly HttpContext _context;
    private readonly ICompletionWire _wire;
    private readonly bool _streamUsage;
    private readonly TimeProvider _time;
    private readonly TimeSpan _keepAlive;
    private readonly SemaphoreSlim _lock = new(1, 1);

    /// <summary>Events for the next write; one token's chunk is about 200 bytes, and a stream holds this buffer for its whole life.</summary>
    private readonly ArrayBufferWriter<byte>? _pending;
    private ITimer? _timer;
    private Func<ICompletionSink, bool, CompletionTranslator>? _newTranslator;
    private ICompletionSink? _sink;
    private CompletionTranslator? _translator;
    private long _lastWrite;
    private bool _ended;
    private bool _started;

    /// <param name="stream">SSE events when true, else one JSON body.</param>
    /// <param name="streamUsage">The client asked for usage in the stream: upstream's is passed as is.</param>
    public ClientResponse(HttpContext context, ICompletionWire wire, bool stream, bool streamUsage, TimeProvider time, TimeSpan keepAlive)
    {
        _context = context;
        _wire = wire;
        _streamUsage = streamUsage;
        _time = time;
        _keepAlive = keepAlive;
        Streams = stream;
        _pending = stream ? new ArrayBufferWriter<byte>(512) : null;
    }

    public bool Streams { get; }

    /// <summary>The translator writing this response; a restart of a JSON response replaces it.</summary>
    public CompletionTranslator Translator => _translator ?? throw new InvalidOperationException("The response was not opened.");

    public int Status => _context.Response.StatusCode;

    public void Open(Func<ICompletionSink, bool, CompletionTranslator> newTranslator)
    {
        _newTranslator = newTranslator;
        if (Streams)
        {
            _sink = _wire.OpenStream(_pending!);
            _translator = newTranslator(_sink, _streamUsage);
            _lastWrite = _time.GetTimestamp();
            _timer = _time.CreateTimer(static state => _ = ((ClientResponse)state!).KeepAliveAsync(), this, _keepAlive, _keepAlive);
        }
        else
        {
            _sink = _wire.OpenBody();
            _translator = newTranslator(_sink, true);
        }
    }

    /// <summary>True once headers (and possibly bytes) went out: an error must be an SSE event from now on.</summary>
    public bool Sent => _started || _context.Response.HasStarted;

    /// <summary>
    /// True while another attempt would not duplicate anything the client was shown: a stream
    /// until its first delta beyond the role, a JSON body always (nothing is sent until the end).
    /// </summary>
    public bool CanRestart => !Streams || _translator is not { OutputStarted: true };

    /// <summary>True when an ending can show the client something: output was produced, or headers went out.</summary>
    public bool HasOutput => Sent || _translator is { OutputStarted: true };

    /// <summary>Forgets the last attempt's output for the next one (only while <see cref="CanRestart"/>).</summary>
    public void Restart()
    {
        if (Streams)
        {
            Translator.Restart();
            return;
        }

        (_sink as IDisposable)?.Dispose();
        _sink = _wire.OpenBody();
        _translator = _newTranslator!(_sink, true);
    }

    /// <summary>When the relay is about to wait for upstream: a stream flushes what the events so far produced; a JSON body waits for the end.</summary>
    public ValueTask FlushEventsAsync(CancellationToken cancellationToken) =>
        Streams ? FlushAsync(cancellationToken) : ValueTask.CompletedTask;

    /// <summary>
    /// Ends the response with <paramref name="failure"/>: an HTTP error in OpenAI's shape while
    /// nothing was sent, else one error event. True when it was an HTTP error.
    /// </summary>
    public async Task<bool> FailAsync(UpstreamFailure failure)
    {
        await _lock.WaitAsync(_context.RequestAborted);
        try
        {
            if (!Sent)
            {
                _ended = true;
                var overflow = failure.Param == UpstreamFailure.ConversationParam;
                var message = overflow ? _wire.ContextOverflowMessage(failure.PromptTokens, failure.ContextTokens, failure.Message) : failure.Message;
                await ErrorResults.WriteAsync(_context, failure.Status, message, failure.Type, failure.Code, overflow ? _wire.ConversationParam : failure.Param, failure.RetryAfter);
                return true;
            }

            Translator.Fail(failure.Message, failure.Type, failure.Code);
            await WritePendingAsync(_context.RequestAborted);
            return false;
        }
        finally
        {
            _lock.Release();
        }
    }

    /// <summary>The final write: what a stream has pending (its finish and [DONE]), or the whole JSON body.</summary>
    public async Task CompleteAsync()
    {
        if (Streams)
        {
            await FlushAsync(_context.RequestAborted);
            return;
        }

        var body = ((ICompletionBody)_sink!).ToJson();
        _context.Response.StatusCode = StatusCodes.Status200OK;
        _context.Response.ContentType = "application/json";
        await _context.Response.Body.WriteAsync(body, _context.RequestAborted);
    }

    public async ValueTask DisposeAsync()
    {
        (_sink as IDisposable)?.Dispose();
        if (_timer is null)
        {
            _lock.Dispose();
            return;
        }

        await _lock.WaitAsync();
        _ended = true;
        _lock.Release();
        await _timer.DisposeAsync();
        _lock.Dispose();
    }

    private async ValueTask FlushAsync(CancellationToken cancellationToken)
    {
        if (_pending!.WrittenCount == 0)
        {
            return;
        }

        await _lock.WaitAsync(cancellationToken);
        try
        {
            await WritePendingAsync(cancellationToken);
        }
        finally
        {
            _lock.Release();
        }
    }

    /// <summary>Under the lock: starts the stream if it has not started, and writes what is pending.</summary>
    private async ValueTask WritePendingAsync(CancellationToken cancellationToken)
    {
        if (_pending is not { WrittenCount: > 0 })
        {
            return;
        }

        StartStream();
        await _context.Response.BodyWriter.WriteAsync(_pending.WrittenMemory, cancellationToken);
        _pending.ResetWrittenCount();
        _lastWrite = _time.GetTimestamp();
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
                if (_ended || _context.RequestAborted.IsCancellationRequested || _time.GetElapsedTime(_lastWrite) < _keepAlive * 0.9)
                {
                    return;
                }

                StartStream();
                await _context.Response.BodyWriter.WriteAsync(_wire.KeepAlive, _context.RequestAborted);
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

    private void StartStream()
    {
        var response = _context.Response;
        if (Sent)
        {
            return;
        }

        _started = true;
        response.StatusCode = StatusCodes.Status200OK;
        response.ContentType = "text/event-stream";
        response.Headers.CacheControl = "no-cache";
        response.Headers["X-Accel-Buffering"] = "no";
        _context.Features.Get<IHttpResponseBodyFeature>()?.DisableBuffering();
    }
}
