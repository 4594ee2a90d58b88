using System.Net;
using System.Text;
using System.Threading.Channels;
using HarmonyProxy.Wire;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;

namespace HarmonyProxy.Tests.Wire;

public sealed class UpstreamBodyTests
{
    private static readonly TimeSpan Guard = TimeSpan.FromSeconds(10);

    [Fact]
    public async Task TheBody_IsReadOnlyWhenTheReaderAsks()
    {
        var source = new PiecesStream();
        await using var body = new UpstreamBody(source);
        var buffer = new byte[64];

        source.Send("one");
        Assert.Equal("one", await ReadTextAsync(body, buffer));
        Assert.Equal(1, source.Reads);

        // Nothing is read ahead: the next piece is asked for by the next read.
        source.Send("two");
        Assert.Equal(1, source.Reads);
        Assert.Equal("two", await ReadTextAsync(body, buffer));
        Assert.Equal(2, source.Reads);
    }

    [Fact]
    public async Task AReadThatWaits_GetsThePieceWhenItArrives()
    {
        var source = new PiecesStream();
        await using var body = new UpstreamBody(source);
        var buffer = new byte[64];

        var waiting = body.ReadAsync(buffer, CancellationToken.None);
        Assert.False(waiting.IsCompleted);
        source.Send("late");

        Assert.Equal("late", Encoding.UTF8.GetString(buffer, 0, await waiting.AsTask().WaitAsync(Guard)));
    }

    [Fact]
    public async Task APieceLargerThanTheBuffer_IsTakenOverSeveralReads_WithoutReadingTheBodyAgain()
    {
        var source = new PiecesStream();
        await using var body = new UpstreamBody(source);
        var buffer = new byte[4];

        source.Send("abcdefghij");

        Assert.Equal("abcd", await ReadTextAsync(body, buffer));
        Assert.Equal("efgh", await ReadTextAsync(body, buffer));
        Assert.Equal("ij", await ReadTextAsync(body, buffer));
        Assert.Equal(1, source.Reads);
    }

    [Fact]
    public async Task EventsThatHaveArrived_AreTakenWithoutWaiting_OneWriteForABacklog()
    {
        // HttpClient hands a chunked body over one chunk (one event) at a time: the relay's flush
        // waits for events already there, so those must be taken without a wait.
        var source = new PiecesStream();
        await using var events = new UpstreamEventReader(source, 1024);
        source.Send("data: a\n\n");
        source.Send("data: b\n\n");
        source.Send("data: c\n\n");

        Assert.True(await events.ReadAsync(CancellationToken.None).AsTask().WaitAsync(Guard));
        Assert.Equal("a", Encoding.UTF8.GetString(events.Data));
        Assert.True(events.TryReadBuffered());
        Assert.Equal("b", Encoding.UTF8.GetString(events.Data));
        Assert.True(events.TryReadBuffered());
        Assert.Equal("c", Encoding.UTF8.GetString(events.Data));

        // Nothing more has arrived: no wait here, the next read waits.
        Assert.False(events.TryReadBuffered());
        var waiting = events.ReadAsync(CancellationToken.None);
        source.Send("data: d\n\n");
        Assert.True(await waiting.AsTask().WaitAsync(Guard));
        Assert.Equal("d", Encoding.UTF8.GetString(events.Data));
    }

    [Fact]
    public async Task AWaitingRead_WokenByChunksThatArriveTogether_TakesThemAllWithoutWaiting()
    {
        // The read is woken by the copy (as by HttpClient's, on the socket's completion): the
        // reader must still be able to let the copy hand over the chunks that came with the first,
        // or a backlog leaves one event per write.
        var source = new PiecesStream();
        await using var events = new UpstreamEventReader(source, 1024);
        var waiting = events.ReadAsync(CancellationToken.None);
        Assert.False(waiting.IsCompleted);

        source.Send("data: a\n\n", "data: b\n\n", "data: c\n\n");
        var taken = await waiting.AsTask().ContinueWith(
            read =>
            {
                // Runs where the read was woken, before anything else can hand the chunks over.
                var names = new List<string> { Encoding.UTF8.GetString(events.Data) };
                while (events.TryReadBuffered())
                {
                    names.Add(Encoding.UTF8.GetString(events.Data));
                }

                return (Woken: read.Result, Names: names);
            },
            CancellationToken.None,
            TaskContinuationOptions.ExecuteSynchronously,
            TaskScheduler.Default).WaitAsync(Guard);

        Assert.True(taken.Woken);
        Assert.Equal(["a", "b", "c"], taken.Names);
    }

    [Fact]
    public async Task TheEnd_IsAReadOfZero_AndStaysSo()
    {
        await using var body = new UpstreamBody(new MemoryStream("all"u8.ToArray()));
        var buffer = new byte[64];

        Assert.Equal("all", await ReadTextAsync(body, buffer));
        Assert.Equal(0, await body.ReadAsync(buffer, CancellationToken.None));
        Assert.Equal(0, await body.ReadAsync(buffer, CancellationToken.None));
    }

    [Fact]
    public async Task ABrokenBody_FailsTheNextRead_WithItsOwnException()
    {
        var source = new PiecesStream();
        await using var body = new UpstreamBody(source);
        var buffer = new byte[64];
        source.Send("part");
        Assert.Equal("part", await ReadTextAsync(body, buffer));

        var waiting = body.ReadAsync(buffer, CancellationToken.None).AsTask();
        source.Fail(new HttpIOException(HttpRequestError.ResponseEnded, "The response ended prematurely."));

        var error = await Assert.ThrowsAsync<HttpIOException>(() => waiting.WaitAsync(Guard));
        Assert.Equal(HttpRequestError.ResponseEnded, error.HttpRequestError);
    }

    [Fact]
    public async Task AWaitingRead_IsCancelledByItsToken_AndDisposalStopsTheBody()
    {
        var source = new PiecesStream();
        var body = new UpstreamBody(source);
        using var stall = new CancellationTokenSource();

        var waiting = body.ReadAsync(new byte[64], stall.Token).AsTask();
        await stall.CancelAsync();

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => waiting.WaitAsync(Guard));
        await body.DisposeAsync().AsTask().WaitAsync(Guard);
        Assert.True(source.Disposed);
    }

    [Fact]
    public async Task Disposal_WhileAPieceIsNotTakenYet_EndsTheCopy()
    {
        var source = new PiecesStream();
        var body = new UpstreamBody(source);
        source.Send("abcdef");
        Assert.Equal("ab", await ReadTextAsync(body, new byte[2]));

        await body.DisposeAsync().AsTask().WaitAsync(Guard);

        Assert.True(source.Disposed);
    }

    [Fact]
    public async Task OverLoopback_AChunkedStreamFromKestrel_ArrivesPieceByPiece()
    {
        // HttpClient's own chunked body, whose CopyToAsync the body is read through.
        var pieces = Channel.CreateUnbounded<string>();
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        await using var app = builder.Build();
        app.MapGet("/", async (HttpContext context) =>
        {
            await context.Response.StartAsync();
            await context.Response.Body.FlushAsync();
            await foreach (var piece in pieces.Reader.ReadAllAsync())
            {
                await context.Response.WriteAsync(piece);
                await context.Response.Body.FlushAsync();
            }
        });
        await app.StartAsync();
        var address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.Single();
        using var client = new HttpClient();
        using var response = await client.GetAsync(address, HttpCompletionOption.ResponseHeadersRead);
        Assert.True(response.Headers.TransferEncodingChunked);
        await using var body = new UpstreamBody(await response.Content.ReadAsStreamAsync());
        var buffer = new byte[64];

        foreach (var piece in new[] { "data: one\n\n", "data: two\n\n" })
        {
            var waiting = body.ReadAsync(buffer, CancellationToken.None);
            pieces.Writer.TryWrite(piece);
            Assert.Equal(piece, Encoding.UTF8.GetString(buffer, 0, await waiting.AsTask().WaitAsync(Guard)));
        }

        pieces.Writer.Complete();
        Assert.Equal(0, await body.ReadAsync(buffer, CancellationToken.None).AsTask().WaitAsync(Guard));
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
    }

    private static async Task<string> ReadTextAsync(UpstreamBody body, byte[] buffer)
    {
        var read = await body.ReadAsync(buffer, CancellationToken.None).AsTask().WaitAsync(Guard);
        return Encoding.UTF8.GetString(buffer, 0, read);
    }

    /// <summary>A body the test feeds piece by piece; each read takes one piece, waiting for it if none is there.</summary>
    private sealed class PiecesStream : Stream
    {
        private readonly Channel<byte[][]> _pieces = Channel.CreateUnbounded<byte[][]>();
        private readonly Queue<byte[]> _arrived = new();
        private byte[] _current = [];
        private int _offset;

        public int Reads { get; private set; }

        public bool Disposed { get; private set; }

        public override bool CanRead => true;

        public override bool CanSeek => false;

        public override bool CanWrite => false;

        public override long Length => throw new NotSupportedException();

        public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }

        /// <summary>Pieces that arrive together: once the first is read, the others are read without a wait (chunks in HttpClient's buffer).</summary>
        public void Send(params string[] pieces) => _pieces.Writer.TryWrite([.. pieces.Select(Encoding.UTF8.GetBytes)]);

        public void Fail(Exception exception) => _pieces.Writer.Complete(exception);

        public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
        {
            Reads++;
            if (_offset == _current.Length)
            {
                if (_arrived.Count == 0)
                {
                    if (!await _pieces.Reader.WaitToReadAsync(cancellationToken))
                    {
                        return 0;
                    }

                    foreach (var piece in await _pieces.Reader.ReadAsync(cancellationToken))
                    {
                        _arrived.Enqueue(piece);
                    }
                }

                _current = _arrived.Dequeue();
                _offset = 0;
            }

            var length = Math.Min(buffer.Length, _current.Length - _offset);
            _current.AsMemory(_offset, length).CopyTo(buffer);
            _offset += length;
            return length;
        }

        public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
            ReadAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

        public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();

        public override void Flush()
        {
        }

        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

        public override void SetLength(long value) => throw new NotSupportedException();

        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();

        protected override void Dispose(bool disposing)
        {
            Disposed = true;
            base.Dispose(disposing);
        }
    }
}
