using System.Buffers;
using System.IO.Pipelines;
using System.Text;
using System.Text.Json.Nodes;
using System.Threading.Channels;
using HarmonyProxy.Completions;
using HarmonyProxy.Tests.Infrastructure;
using HarmonyProxy.Wire;

namespace HarmonyProxy.Tests.Completions;

/// <summary>
/// When the relay flushes to the client: before every wait for upstream (a token that reached the
/// proxy never waits for the next one), and once for events that arrived together.
/// </summary>
public sealed class CompletionRelayTests
{
    private const string FinalHeader = "<|channel|>final<|message|>";
    private static readonly TimeSpan Guard = TimeSpan.FromSeconds(30);

    [Fact]
    public async Task LoneEvents_EachLeaveBeforeTheNextIsRead()
    {
        await using var relay = new RelayUnderTest();
        string[] tokens = ["Hello", " there", ", world"];
        await relay.SendAsync(LlamaChunks.Role());
        Assert.Equal(1, (await relay.NextFlushAsync()).Count);
        await relay.SendAsync(LlamaChunks.Content(FinalHeader));
        Assert.Equal(2, (await relay.NextFlushAsync()).Count);

        for (var i = 0; i < tokens.Length; i++)
        {
            // The next event is written only once the flush came: a relay that waited for it with
            // output unflushed would never get here (the guard fails the test).
            await relay.SendAsync(LlamaChunks.Content(tokens[i]));
            var flush = await relay.NextFlushAsync();
            Assert.Equal(i + 3, flush.Count);
            Assert.Equal(string.Concat(tokens[..(i + 1)]), ContentSoFar(flush.ClientText));
        }

        await relay.SendAsync(LlamaChunks.Finish("stop"), LlamaChunks.Done);
        Assert.Equal(RelayEnd.Completed, await relay.EndAsync());
        Assert.Equal(6, relay.Flushes);
        Assert.EndsWith("data: [DONE]\n\n", relay.ClientText, StringComparison.Ordinal);
    }

    [Fact]
    public async Task EventsThatArriveTogether_LeaveInOneFlush()
    {
        await using var relay = new RelayUnderTest();
        // Three events of about 270 bytes: one read of the reader's 1 KB buffer.
        await relay.SendAsync(LlamaChunks.Role(), LlamaChunks.Content(FinalHeader + "Hello"), LlamaChunks.Content(" there"));

        var flush = await relay.NextFlushAsync();
        Assert.Equal(1, flush.Count);
        Assert.Equal("Hello there", ContentSoFar(flush.ClientText));

        await relay.SendAsync(LlamaChunks.Finish("stop"), LlamaChunks.Done);
        Assert.Equal(RelayEnd.Completed, await relay.EndAsync());
        Assert.Equal(2, relay.Flushes);
    }

    [Fact]
    public async Task SameOutput_WhetherEventsArriveTogetherOrApart()
    {
        string[] events = [LlamaChunks.Role(), .. LlamaChunks.RawContent("<|channel|>analysis<|message|>Think.<|end|><|start|>assistant<|channel|>final<|message|>The answer."), LlamaChunks.Finish("stop"), LlamaChunks.Done];

        await using var together = new RelayUnderTest();
        await together.SendAsync(events);
        Assert.Equal(RelayEnd.Completed, await together.EndAsync());

        await using var apart = new RelayUnderTest();
        foreach (var data in events[..^1])
        {
            await apart.SendAsync(data);
            await apart.NextFlushAsync();
        }

        await apart.SendAsync(events[^1]);
        Assert.Equal(RelayEnd.Completed, await apart.EndAsync());

        Assert.True(together.Flushes < apart.Flushes, $"{together.Flushes} flushes together, {apart.Flushes} apart");
        Assert.Equal(ClientStream.Parse(apart.ClientText).Content, ClientStream.Parse(together.ClientText).Content);
        Assert.Equal("The answer.", ClientStream.Parse(together.ClientText).Content);
    }

    [Fact]
    public async Task AFiredWatchdog_EndsTheRelayBeforeTheBacklog()
    {
        // The read that brings three events also sees the generation ended (a reasoning loop, the
        // drain's end): none of the three is relayed.
        using var ended = new CancellationTokenSource();
        var body = Encoding.UTF8.GetBytes(LlamaChunks.Sse([LlamaChunks.Role(), LlamaChunks.Content("Hello"), LlamaChunks.Content(" there")]));
        await using var events = new UpstreamEventReader(new CancelsOnReadStream(body, ended), 1 << 20);
        var buffer = new ArrayBufferWriter<byte>();
        using var writer = new SseChunkWriter(buffer);
        var translator = new CompletionTranslator(writer, OutputOptions.Default, passUsage: false);

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() =>
            CompletionRelay.RunAsync(events, eventStream: true, translator, watchdog: null, static () => ValueTask.CompletedTask, ended.Token));
        Assert.Equal(0, buffer.WrittenCount);
    }

    /// <summary>The answer text of a stream that has not ended yet (<see cref="ClientStream"/> checks whole streams).</summary>
    private static string ContentSoFar(string clientText) => string.Concat(
        clientText.Split("\n\n", StringSplitOptions.RemoveEmptyEntries)
            .Select(sse => JsonNode.Parse(sse["data: ".Length..])!["choices"]![0]!["delta"]!["content"]?.GetValue<string>()));

    /// <summary>The relay over a pipe the test writes upstream's events into, with each flush reported.</summary>
    private sealed class RelayUnderTest : IAsyncDisposable
    {
        private readonly Pipe _upstream = new();
        private readonly ArrayBufferWriter<byte> _client = new();
        private readonly SseChunkWriter _writer;
        private readonly UpstreamEventReader _events;
        private readonly Channel<(int Count, string ClientText)> _flushes = Channel.CreateUnbounded<(int, string)>();
        private readonly Task<RelayEnd> _run;

        public RelayUnderTest()
        {
            _writer = new SseChunkWriter(_client);
            _events = new UpstreamEventReader(_upstream.Reader.AsStream(), 1 << 20);
            var translator = new CompletionTranslator(_writer, OutputOptions.Default, passUsage: false);
            _run = CompletionRelay.RunAsync(_events, eventStream: true, translator, watchdog: null, FlushAsync, CancellationToken.None);
        }

        public int Flushes { get; private set; }

        /// <summary>Everything the client was sent so far.</summary>
        public string ClientText => Encoding.UTF8.GetString(_client.WrittenSpan);

        /// <summary>Writes the events to upstream's body in one write.</summary>
        public async Task SendAsync(params string[] events)
        {
            await _upstream.Writer.WriteAsync(Encoding.UTF8.GetBytes(LlamaChunks.Sse(events)));
        }

        /// <summary>The next flush: how many so far, and what the client had been sent by then.</summary>
        public async Task<(int Count, string ClientText)> NextFlushAsync() => await _flushes.Reader.ReadAsync().AsTask().WaitAsync(Guard);

        public async Task<RelayEnd> EndAsync()
        {
            await _upstream.Writer.CompleteAsync();
            return await _run.WaitAsync(Guard);
        }

        public async ValueTask DisposeAsync()
        {
            // The relay ends (or a failed test's relay is given up on) before its reader goes.
            await _upstream.Writer.CompleteAsync();
            try
            {
                await _run.WaitAsync(Guard);
            }
            catch (Exception exception) when (exception is TimeoutException or OperationCanceledException or IOException)
            {
                // The test already failed on why; the reader's buffers are not returned while a read may still run.
                return;
            }

            await _events.DisposeAsync();
            _writer.Dispose();
        }

        private ValueTask FlushAsync()
        {
            Flushes++;
            _flushes.Writer.TryWrite((Flushes, ClientText));
            return ValueTask.CompletedTask;
        }
    }

    /// <summary>A body whose first read returns all of it and cancels <c>ended</c>.</summary>
    private sealed class CancelsOnReadStream(byte[] body, CancellationTokenSource ended) : MemoryStream(body)
    {
        public override ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
        {
            var read = Read(buffer.Span);
            ended.Cancel();
            return ValueTask.FromResult(read);
        }
    }
}
