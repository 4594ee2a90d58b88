using System.Text;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;

namespace HarmonyProxy.Tests.Infrastructure;

/// <summary>A response that, as Kestrel's does, counts as started from its first written byte.</summary>
internal sealed class InMemoryResponse
{
    private readonly MemoryStream _body = new();
    private readonly ResponseFeature _feature = new();

    public InMemoryResponse()
    {
        Context = new DefaultHttpContext();
        Context.Features.Set<IHttpResponseFeature>(_feature);
        Context.Features.Set<IHttpResponseBodyFeature>(new StreamResponseBodyFeature(new StartOnWrite(_body, _feature)));
    }

    public HttpContext Context { get; }

    public string Body
    {
        get
        {
            Context.Response.BodyWriter.FlushAsync().AsTask().GetAwaiter().GetResult();
            return Encoding.UTF8.GetString(_body.ToArray());
        }
    }

    private sealed class ResponseFeature : HttpResponseFeature
    {
        public bool Started { get; set; }

        public override bool HasStarted => Started;
    }

    private sealed class StartOnWrite(Stream inner, ResponseFeature feature) : Stream
    {
        public override bool CanRead => false;

        public override bool CanSeek => false;

        public override bool CanWrite => true;

        public override long Length => inner.Length;

        public override long Position { get => inner.Position; set => throw new NotSupportedException(); }

        public override void Flush() => inner.Flush();

        public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();

        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

        public override void SetLength(long value) => throw new NotSupportedException();

        public override void Write(byte[] buffer, int offset, int count)
        {
            feature.Started = true;
            inner.Write(buffer, offset, count);
        }

        public override ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default)
        {
            feature.Started = true;
            return inner.WriteAsync(buffer, cancellationToken);
        }

        public override Task WriteAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken)
        {
            feature.Started = true;
            return inner.WriteAsync(buffer, offset, count, cancellationToken);
        }
    }
}
