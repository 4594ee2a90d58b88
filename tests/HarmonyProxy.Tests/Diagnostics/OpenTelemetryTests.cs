using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net;
using System.Text;
using HarmonyProxy.Tests.Infrastructure;
using LlamaServerSim;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using OpenTelemetry;
using OpenTelemetry.Trace;

namespace HarmonyProxy.Tests.Diagnostics;

/// <summary>OpenTelemetry traces: on only with OTEL_EXPORTER_OTLP_ENDPOINT, a span per request, a child per upstream attempt.</summary>
public sealed class OpenTelemetryTests
{
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(15);

    [Fact]
    public async Task Request_HasGenAiAttributes_AndAChildSpanPerUpstreamAttempt()
    {
        var spans = new List<Activity>();
        var requestId = Guid.NewGuid().ToString("N");
        var serverSpanEnded = new TaskCompletionSource<Activity>(TaskCreationOptions.RunContinuationsAsynchronously);
        await using var simulator = await LlamaServerSimulator.StartAsync();
        // The first stream fails with a transient error event before anything visible: a second attempt.
        simulator.Enqueue(new SimScript { RawText = "<|channel|>final<|message|>Hello there", ErrorAfterTokens = 2, ErrorCode = 503, ErrorMessage = "busy" }, new SimScript { RawText = "<|channel|>final<|message|>Hello there" });
        await using var proxy = new HarmonyProxyApplication(
            new() { [TelemetrySetup.EndpointVariable] = "http://127.0.0.1:9", ["Serilog:MinimumLevel:Default"] = "Information" },
            realUpstream: simulator.BaseAddress)
        {
            TestServices = services => services.ConfigureOpenTelemetryTracerProvider(tracing => tracing
                .AddInMemoryExporter(spans)
                .AddProcessor(new OnServerSpanEnd(serverSpanEnded, requestId))),
        };
        using var http = new HttpClient { BaseAddress = proxy.ServerAddress };
        http.DefaultRequestHeaders.Add("X-Request-Id", requestId);

        using var response = await http.PostAsync("/v1/chat/completions", new StringContent("""{"model":"gpt-oss-20b","stream":true,"stream_options":{"include_usage":true},"messages":[{"role":"user","content":"hi"}]}""", Encoding.UTF8, "application/json"));
        await response.Content.ReadAsStringAsync();
        var server = await serverSpanEnded.Task.WaitAsync(Bound);

        Assert.Equal("gpt-oss-20b", server.GetTagItem("gen_ai.request.model"));
        Assert.Equal("chat", server.GetTagItem("gen_ai.operation.name"));
        Assert.True((long)server.GetTagItem("gen_ai.usage.output_tokens")! > 0);
        Assert.True((long)server.GetTagItem("gen_ai.usage.input_tokens")! > 0);
        Assert.NotNull(server.GetTagItem("gen_ai.server.time_to_first_token"));
        Assert.Equal(2, server.GetTagItem("harmony_proxy.upstream_attempts"));

        lock (spans)
        {
            // Spans of the tests running beside this one are in the list too: this request's are its children.
            var attempts = spans.Where(span => span.DisplayName == "chat llama-server" && span.ParentSpanId == server.SpanId).ToList();
            Assert.Equal(2, attempts.Count);
            Assert.Equal(ActivityStatusCode.Error, attempts[0].Status);
            Assert.All(attempts, attempt => Assert.Contains(spans, http => http.Kind == ActivityKind.Client && http.Source.Name == "System.Net.Http" && http.ParentSpanId == attempt.SpanId));
        }

        var summary = Assert.Single(proxy.LogEvents.Named("CompletionFinished"));
        Assert.Equal(server.TraceId, summary.TraceId);
    }

    [Fact]
    public async Task OtlpReceiverOnLoopback_GetsTheTraces()
    {
        await using var receiver = await OtlpReceiver.StartAsync();
        var requestId = Guid.NewGuid().ToString("N");
        var serverSpanEnded = new TaskCompletionSource<Activity>(TaskCreationOptions.RunContinuationsAsynchronously);
        await using var simulator = await LlamaServerSimulator.StartAsync();
        await using var proxy = new HarmonyProxyApplication(
            new() { [TelemetrySetup.EndpointVariable] = receiver.Address.ToString().TrimEnd('/'), ["OTEL_EXPORTER_OTLP_PROTOCOL"] = "http/protobuf" },
            realUpstream: simulator.BaseAddress)
        {
            TestServices = services => services.ConfigureOpenTelemetryTracerProvider(tracing => tracing.AddProcessor(new OnServerSpanEnd(serverSpanEnded, requestId))),
        };
        using var http = new HttpClient { BaseAddress = proxy.ServerAddress };
        http.DefaultRequestHeaders.Add("X-Request-Id", requestId);

        using var response = await http.PostAsync("/v1/chat/completions", new StringContent("""{"model":"gpt-oss-20b","messages":[{"role":"user","content":"hi"}]}""", Encoding.UTF8, "application/json"));
        await serverSpanEnded.Task.WaitAsync(Bound);
        var traces = receiver.WhenReceived("/v1/traces");
        Assert.True(proxy.Services.GetRequiredService<TracerProvider>().ForceFlush(10_000));
        var body = await traces.WaitAsync(Bound);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Contains("gen_ai.request.model", Encoding.UTF8.GetString(body), StringComparison.Ordinal);
        Assert.Contains("chat llama-server", Encoding.UTF8.GetString(body), StringComparison.Ordinal);
        Assert.Contains("harmony-proxy", Encoding.UTF8.GetString(body), StringComparison.Ordinal);
    }

    [Fact]
    public async Task WithoutTheEndpoint_NoTracerIsRegistered()
    {
        await using var app = new HarmonyProxyApplication();

        Assert.Null(app.Services.GetService<TracerProvider>());
    }

    /// <summary>Signals when the request's server span has ended (it ends after the response, so a client cannot wait for it otherwise).</summary>
    /// <remarks>Listeners are process-wide: tests running beside this one produce spans too, so the span is picked by request id.</remarks>
    private sealed class OnServerSpanEnd(TaskCompletionSource<Activity> ended, string requestId) : BaseProcessor<Activity>
    {
        public override void OnEnd(Activity data)
        {
            if (data.Kind == ActivityKind.Server && Equals(data.GetTagItem("harmony_proxy.request_id"), requestId))
            {
                ended.TrySetResult(data);
            }
        }
    }

    /// <summary>An OTLP/HTTP receiver on loopback: it keeps each request's body by path.</summary>
    private sealed class OtlpReceiver : IAsyncDisposable
    {
        private readonly WebApplication _app;
        private readonly ConcurrentQueue<(string Path, byte[] Body)> _received = new();
        private readonly ConcurrentQueue<(string Path, TaskCompletionSource<byte[]> Seen)> _waiters = new();

        private OtlpReceiver(WebApplication app)
        {
            _app = app;
        }

        public Uri Address { get; private set; } = null!;

        public static async Task<OtlpReceiver> StartAsync()
        {
            var builder = WebApplication.CreateSlimBuilder();
            builder.WebHost.UseUrls("http://127.0.0.1:0");
            var app = builder.Build();
            var receiver = new OtlpReceiver(app);
            app.MapPost("/{**path}", async (HttpContext context) =>
            {
                using var buffer = new MemoryStream();
                await context.Request.Body.CopyToAsync(buffer);
                receiver.OnReceived(context.Request.Path, buffer.ToArray());
                context.Response.ContentType = "application/x-protobuf";
            });
            await app.StartAsync();
            receiver.Address = new Uri(app.Urls.First());
            return receiver;
        }

        public Task<byte[]> WhenReceived(string path)
        {
            var seen = new TaskCompletionSource<byte[]>(TaskCreationOptions.RunContinuationsAsynchronously);
            _waiters.Enqueue((path, seen));
            foreach (var (received, body) in _received)
            {
                if (received == path)
                {
                    seen.TrySetResult(body);
                }
            }

            return seen.Task;
        }

        public async ValueTask DisposeAsync()
        {
            await _app.StopAsync();
            await _app.DisposeAsync();
        }

        private void OnReceived(string path, byte[] body)
        {
            _received.Enqueue((path, body));
            foreach (var (wanted, seen) in _waiters)
            {
                if (wanted == path)
                {
                    seen.TrySetResult(body);
                }
            }
        }
    }
}
