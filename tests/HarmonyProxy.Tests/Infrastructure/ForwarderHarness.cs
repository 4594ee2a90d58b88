using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json.Nodes;
using HarmonyProxy.Completions;
using HarmonyProxy.Diagnostics;
using HarmonyProxy.Endpoints;
using HarmonyProxy.Forwarding;
using HarmonyProxy.Preparation;
using HarmonyProxy.Wire;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;
using RichardSzalay.MockHttp;

namespace HarmonyProxy.Tests.Infrastructure;

/// <summary>
/// A recorded llama-server body through the service's own forwarder (the app's
/// <see cref="CompletionForwarder"/>, its relay, its retry decision and its one ending) into a
/// client channel in memory, as golden fixtures need: what the client gets is what the service
/// writes, not a copy of its rules. Time is a <see cref="FakeTimeProvider"/>, so a body that stops
/// short of its end can be ended by the idle watchdog without waiting.
/// </summary>
internal sealed class ForwarderHarness : IAsyncDisposable
{
    private static readonly TimeSpan IdleLimit = TimeSpan.FromSeconds(1);
    private readonly FakeTimeProvider _time = new(new DateTimeOffset(2026, 12, 7, 0, 0, 0, TimeSpan.Zero));
    private readonly HarmonyProxyApplication _app;

    public ForwarderHarness()
    {
        _app = new HarmonyProxyApplication(new()
        {
            // One attempt: a fixture records one upstream body.
            ["HarmonyProxy:Upstream:MaxRetries"] = "0",
            // Below the keep-alive interval, so the watchdog's end leaves no keep-alive in the output.
            ["HarmonyProxy:Upstream:ReadTimeoutSeconds"] = IdleLimit.TotalSeconds.ToString(System.Globalization.CultureInfo.InvariantCulture),
        })
        {
            Time = _time,
        };
    }

    /// <summary>
    /// Forwards a chat request (<paramref name="stream"/>, usage, output options) whose upstream body
    /// is <paramref name="upstream"/>; when <paramref name="heldOpen"/>, the body stays open after its
    /// bytes until the idle watchdog ends it. Returns what the client received and the result.
    /// </summary>
    /// <param name="chatRequest">The chat request (another API's, mapped), or null for a plain one.</param>
    public async Task<(string Client, CompletionResult Result)> ForwardAsync(byte[] upstream, bool stream, bool includeUsage, OutputOptions output, ICompletionWire? wire = null, bool heldOpen = false, JsonObject? chatRequest = null)
    {
        var body = new RecordedBody(upstream, heldOpen);
        _app.Upstream.When(HttpMethod.Post, HarmonyProxyApplication.UpstreamBase + "/chat/completions").Respond(_ => new HttpResponseMessage(HttpStatusCode.OK)
        {
            Content = new StreamContent(body) { Headers = { ContentType = new MediaTypeHeaderValue("text/event-stream") } },
        });
        var forwarder = _app.Services.GetRequiredService<CompletionForwarder>();
        var request = chatRequest ?? new JsonObject
        {
            ["model"] = "gpt-oss-20b",
            ["stream"] = stream,
            ["messages"] = new JsonArray(new JsonObject { ["role"] = "user", ["content"] = "hi" }),
        };
        if (includeUsage && chatRequest is null)
        {
            request["stream_options"] = new JsonObject { ["include_usage"] = true };
        }

        var prepared = RequestPreparer.Prepare(request, CompletionPreparer.PreparationOptions(new RequestOptions(), severalBackends: false), out var problem);
        Assert.Null(problem);
        var client = new InMemoryResponse();
        CompletionResult result;
        await using (var channel = new ClientResponse(client.Context, wire ?? new ChatCompletionWire(output.ReasoningFields), prepared!.ClientStreams, prepared.ClientWantsUsage, _time, TimeSpan.FromSeconds(15)))
        {
            var forwarding = forwarder.ForwardAsync(
                new ForwardRequest { RequestId = "golden", Endpoint = "chat_completions", Prepared = prepared!, Output = output, Owner = "golden", Started = _time.GetTimestamp() },
                channel);
            if (heldOpen)
            {
                // The relay has read every recorded byte and waits for more: the idle limit passes.
                await body.Drained.WaitAsync(TimeSpan.FromSeconds(10));
                _time.Advance(IdleLimit * 2);
            }

            result = await forwarding.WaitAsync(TimeSpan.FromSeconds(10));
        }

        return (client.Body, result);
    }

    public ValueTask DisposeAsync() => _app.DisposeAsync();

    /// <summary>The recorded bytes, then the end, or (held open) a read that waits until the watchdog cancels it.</summary>
    private sealed class RecordedBody(byte[] bytes, bool heldOpen) : Stream
    {
        private readonly TaskCompletionSource _drained = new(TaskCreationOptions.RunContinuationsAsynchronously);
        private int _position;

        public Task Drained => _drained.Task;

        public override bool CanRead => true;

        public override bool CanSeek => false;

        public override bool CanWrite => false;

        public override long Length => throw new NotSupportedException();

        public override long Position { get => _position; set => throw new NotSupportedException(); }

        public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException("read asynchronously");

        public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
        {
            if (_position < bytes.Length)
            {
                var count = Math.Min(buffer.Length, bytes.Length - _position);
                bytes.AsMemory(_position, count).CopyTo(buffer);
                _position += count;
                return count;
            }

            if (!heldOpen)
            {
                return 0;
            }

            _drained.TrySetResult();
            await Task.Delay(Timeout.Infinite, cancellationToken);
            return 0;
        }

        public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
            ReadAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

        /// <summary>
        /// The proxy reads the body by copying it: the write returns once the reader has taken every
        /// recorded byte and comes back for more, that is once the relay has handled them all.
        /// </summary>
        public override async Task CopyToAsync(Stream destination, int bufferSize, CancellationToken cancellationToken)
        {
            await destination.WriteAsync(bytes.AsMemory(_position), cancellationToken);
            _position = bytes.Length;
            if (!heldOpen)
            {
                return;
            }

            _drained.TrySetResult();
            await Task.Delay(Timeout.Infinite, cancellationToken);
        }

        public override void Flush()
        {
        }

        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

        public override void SetLength(long value) => throw new NotSupportedException();

        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    }
}
