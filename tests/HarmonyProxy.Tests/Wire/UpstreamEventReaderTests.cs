using System.Net.ServerSentEvents;
using System.Text;
using FsCheck;
using FsCheck.Fluent;
using FsCheck.Xunit;
using HarmonyProxy.Wire;

namespace HarmonyProxy.Tests.Wire;

public sealed class UpstreamEventReaderTests
{
    private const int Limit = 64;

    public static TheoryData<string, string, string[]> Framings => new()
    {
        { "LF", "data: a\n\ndata: b\n\n", ["a", "b"] },
        { "CRLF", "data: a\r\n\r\ndata: b\r\n\r\n", ["a", "b"] },
        { "CR", "data: a\r\rdata: b\r\r", ["a", "b"] },
        { "BOM", "\uFEFFdata: a\n\n", ["a"] },
        { "comment and other fields", ": keep-alive\nevent: message\nid: 7\nretry: 10\ndata: a\n\n", ["a"] },
        { "several data lines", "data: a\ndata: b\ndata:\n\n", ["a\nb\n"] },
        { "no space after colon", "data:a\n\n", ["a"] },
        { "only one space removed", "data:  a\n\n", [" a"] },
        { "field without colon", "data\n\n", [""] },
        { "blank lines between events", "\n\n\r\ndata: a\n\n\n\ndata: b\n\n", ["a", "b"] },
        { "unfinished event at the end", "data: a\n\ndata: b\n", ["a"] },
        { "line without end at the end", "data: a\n\ndata: b", ["a"] },
        { "CR at the very end", "data: a\n\r", ["a"] },
        { "mixed line ends", "data: a\r\ndata: b\rdata: c\n\r\n", ["a\nb\nc"] },
        { "UTF-8 payload", "data: {\"content\":\"é🌡\"}\n\n", ["{\"content\":\"é🌡\"}"] },
        { "empty body", "", [] },
    };

    [Theory]
    [MemberData(nameof(Framings))]
    public async Task Framing_MatchesTheSpec_WholeAndByteByByte(string name, string body, string[] expected)
    {
        var whole = await ReadAllAsync(body, chunkSize: int.MaxValue);
        var byteByByte = await ReadAllAsync(body, chunkSize: 1);
        var reference = await SseParserReadsAsync(body);

        Assert.True(expected.AsEnumerable().SequenceEqual(whole), name + ", in one read");
        Assert.True(expected.AsEnumerable().SequenceEqual(byteByByte), name + ", byte by byte");
        Assert.True(expected.AsEnumerable().SequenceEqual(reference), name + ", as .NET's SseParser reads it");
    }

    [Theory]
    [InlineData(int.MaxValue)]
    [InlineData(1)]
    public async Task LegacyErrorField_IsHandedOutAsAnErrorEvent(int chunkSize)
    {
        // llama-server before Sep 2025 (llama-server.md §4.3); .NET's SseParser would drop the field.
        const string Body = "data: {\"choices\":[]}\n\nerror: {\"code\":500,\"message\":\"boom\",\"type\":\"server_error\"}\n\ndata: [DONE]\n\n";

        var events = await ReadAllAsync(Body, chunkSize);

        Assert.Equal(["{\"choices\":[]}", "{\"error\":{\"code\":500,\"message\":\"boom\",\"type\":\"server_error\"}}", "[DONE]"], events);
    }

    [Fact]
    public async Task EventLargerThanTheFirstBuffer_IsReadWhole()
    {
        var payload = new string('x', 5000);
        var body = $"data: {payload}\n\ndata: [DONE]\n\n";

        var events = await ReadAllAsync(body, chunkSize: 700, limit: 8192);

        Assert.Equal([payload, "[DONE]"], events);
    }

    [Theory]
    [InlineData(int.MaxValue)]
    [InlineData(5)]
    public async Task LineLongerThanTheLimit_FailsTheRead(int chunkSize)
    {
        var body = "data: " + new string('x', Limit) + "\n\n";

        var error = await Assert.ThrowsAsync<UpstreamEventTooLargeException>(() => ReadAllAsync(body, chunkSize));

        Assert.Contains($"exceeded {Limit} bytes", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task LineThatNeverEnds_FailsOnceItPassesTheLimit()
    {
        await using var reader = new UpstreamEventReader(new EndlessStream(), Limit);

        await Assert.ThrowsAsync<UpstreamEventTooLargeException>(async () => await reader.ReadAsync(CancellationToken.None));
    }

    [Fact]
    public async Task LineOfExactlyTheLimit_IsRead()
    {
        var value = new string('x', Limit - "data: ".Length);

        Assert.Equal([value], await ReadAllAsync($"data: {value}\n\n", chunkSize: 7));
    }

    [Fact]
    public async Task EventOfManyShortLinesPastTheLimit_FailsTheRead()
    {
        var body = string.Concat(Enumerable.Repeat("data: 0123456789\n", 10)) + "\n";

        await Assert.ThrowsAsync<UpstreamEventTooLargeException>(() => ReadAllAsync(body, chunkSize: int.MaxValue));
    }

    [Fact]
    public async Task ReadToEnd_ReturnsTheWholeBody()
    {
        var body = "{\"choices\":[{\"message\":{\"content\":\"" + new string('y', 1500) + "\"}}]}";
        await using var reader = new UpstreamEventReader(new ChunkedStream(Encoding.UTF8.GetBytes(body), 100), 4096);

        var whole = await reader.ReadToEndAsync(CancellationToken.None);

        Assert.Equal(body, Encoding.UTF8.GetString(whole.Span));
    }

    [Fact]
    public async Task ReadToEnd_FailsPastTheLimit()
    {
        await using var reader = new UpstreamEventReader(new ChunkedStream(new byte[Limit + 1], 10), Limit);

        await Assert.ThrowsAsync<UpstreamEventTooLargeException>(async () => await reader.ReadToEndAsync(CancellationToken.None));
    }

    /// <summary>Random SSE-ish bytes cut at random places: the same events as .NET's SseParser.</summary>
    [Property(MaxTest = 400)]
    public Property ArbitraryStreams_AgreeWithSseParser()
    {
        var pieces = Gen.Elements("data", "data:", "data: ", ":", " ", "\r", "\n", "\r\n", "x", "{\"a\":1}", "event: e", "id", "é", "\uFEFF");
        var gen =
            from parts in Gen.ListOf(pieces)
            from chunkSize in Gen.Choose(1, 16)
            select (body: string.Concat(parts), chunkSize);

        return Prop.ForAll(gen.ToArbitrary(), sample =>
        {
            var ours = ReadAllAsync(sample.body, sample.chunkSize, limit: 1 << 16).GetAwaiter().GetResult();
            var reference = SseParserReadsAsync(sample.body).GetAwaiter().GetResult();
            return ours.SequenceEqual(reference);
        });
    }

    private static async Task<string[]> ReadAllAsync(string body, int chunkSize, int limit = Limit)
    {
        await using var reader = new UpstreamEventReader(new ChunkedStream(Encoding.UTF8.GetBytes(body), chunkSize), limit);
        var events = new List<string>();
        while (await reader.ReadAsync(CancellationToken.None))
        {
            events.Add(Encoding.UTF8.GetString(reader.Data));
        }

        return [.. events];
    }

    private static async Task<string[]> SseParserReadsAsync(string body)
    {
        var events = new List<string>();
        var parser = SseParser.Create(new MemoryStream(Encoding.UTF8.GetBytes(body)), (_, data) => Encoding.UTF8.GetString(data));
        await foreach (var item in parser.EnumerateAsync())
        {
            events.Add(item.Data);
        }

        return [.. events];
    }

    /// <summary>Hands out the body at most <c>chunkSize</c> bytes per read, as a network would.</summary>
    private sealed class ChunkedStream(byte[] data, int chunkSize) : MemoryStream(data)
    {
        public override ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default) =>
            base.ReadAsync(buffer[..Math.Min(buffer.Length, chunkSize)], cancellationToken);
    }

    /// <summary>An upstream that sends 'x' forever and never ends the line.</summary>
    private sealed class EndlessStream : Stream
    {
        public override bool CanRead => true;

        public override bool CanSeek => false;

        public override bool CanWrite => false;

        public override long Length => throw new NotSupportedException();

        public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }

        public override int Read(byte[] buffer, int offset, int count)
        {
            buffer.AsSpan(offset, count).Fill((byte)'x');
            return count;
        }

        public override ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
        {
            buffer.Span.Fill((byte)'x');
            return ValueTask.FromResult(buffer.Length);
        }

        public override void Flush()
        {
        }

        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

        public override void SetLength(long value) => throw new NotSupportedException();

        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    }
}
