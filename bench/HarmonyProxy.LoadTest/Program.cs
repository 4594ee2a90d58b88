using System.Buffers;
using System.Diagnostics;
using System.Globalization;
using System.Net.ServerSentEvents;
using System.Text;

namespace HarmonyProxy.LoadTest;

/// <summary>
/// The load benchmark's two halves, both loopback-only and bounded:
/// <c>upstream --urls URL --tokens N --rate R</c>: a lean llama-server stand-in that streams raw
/// Harmony (`&lt;|channel|&gt;final&lt;|message|&gt;` then N stamped tokens at R tokens/s), each
/// token's text being the monotonic send time, so a client can measure per-token latency;
/// <c>client --url URL --streams S</c>: opens S concurrent streams and reports ok/failed,
/// per-token latency p50/p99, time to first token, tokens received;
/// <c>first-token --url URL [--requests 30]</c>: one request at a time on a warm connection, each
/// read to its first token and closed, so time to first token shows what the middle adds to a
/// single request rather than how a burst of simultaneous requests queues.
/// </summary>
internal static class LoadTestProgram
{
    public static async Task<int> Main(string[] args)
    {
        var mode = args.FirstOrDefault();
        var options = Options(args.Skip(1).ToArray());
        return mode switch
        {
            "upstream" => await UpstreamAsync(options),
            "client" => await ClientAsync(options),
            "first-token" => await FirstTokenAsync(options),
            "agents" => await AgentWorkload.RunAsync(options),
            _ => Usage(),
        };
    }

    private static int Usage()
    {
        Console.Error.WriteLine("usage: upstream --urls URL [--tokens 200] [--rate 50] | client --url URL [--streams 200] [--label name] | first-token --url URL [--requests 30] | agents --url URL [--conversations 40] [--turns 8] [--label name]");
        return 2;
    }

    private static Dictionary<string, string> Options(string[] args)
    {
        var options = new Dictionary<string, string>(StringComparer.Ordinal);
        for (var i = 0; i + 1 < args.Length; i += 2)
        {
            options[args[i].TrimStart('-')] = args[i + 1];
        }

        return options;
    }

    // :: Upstream -----------------------------------------------------------------------------

    private static async Task<int> UpstreamAsync(Dictionary<string, string> options)
    {
        var tokens = int.Parse(options.GetValueOrDefault("tokens", "200"), CultureInfo.InvariantCulture);
        var rate = double.Parse(options.GetValueOrDefault("rate", "50"), CultureInfo.InvariantCulture);
        var interval = TimeSpan.FromSeconds(1 / rate);
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls(options.GetValueOrDefault("urls", "http://127.0.0.1:18300"));
        builder.Logging.ClearProviders();
        builder.WebHost.ConfigureKestrel(kestrel => kestrel.Limits.MaxConcurrentConnections = null);
        var app = builder.Build();
        app.MapGet("/v1/models", () => Results.Text("""{"object":"list","data":[{"id":"bench","object":"model"}]}""", "application/json"));
        app.MapPost("/v1/chat/completions", async context =>
        {
            await context.Request.Body.CopyToAsync(Stream.Null, context.RequestAborted);
            context.Response.ContentType = "text/event-stream";
            var body = context.Response.BodyWriter;
            try
            {
                Write(body, "{\"role\":\"assistant\",\"content\":null}", null);
                Write(body, "{\"content\":\"<|channel|>\"}", null);
                Write(body, "{\"content\":\"final\"}", null);
                Write(body, "{\"content\":\"<|message|>\"}", null);
                await body.FlushAsync(context.RequestAborted);
                using var timer = new PeriodicTimer(interval);
                for (var i = 0; i < tokens; i++)
                {
                    await timer.WaitForNextTickAsync(context.RequestAborted);
                    Write(body, "{\"content\":\"" + Stopwatch.GetTimestamp().ToString(CultureInfo.InvariantCulture) + " \"}", null);
                    await body.FlushAsync(context.RequestAborted);
                }

                Write(body, "{}", "stop");
                body.Write("data: [DONE]\n\n"u8);
                await body.FlushAsync(context.RequestAborted);
            }
            catch (OperationCanceledException)
            {
                // The client left.
            }
        });
        Console.WriteLine($"load upstream: {tokens} tokens at {rate}/s");
        await app.RunAsync();
        return 0;
    }

    private static void Write(IBufferWriter<byte> body, string delta, string? finish)
    {
        var finishJson = finish is null ? "null" : "\"" + finish + "\"";
        var text = "data: {\"choices\":[{\"finish_reason\":" + finishJson + ",\"index\":0,\"delta\":" + delta
            + "}],\"created\":1761672368,\"id\":\"chatcmpl-bench\",\"model\":\"bench\",\"object\":\"chat.completion.chunk\"}\n\n";
        body.Write(Encoding.UTF8.GetBytes(text));
    }

    // :: Client -------------------------------------------------------------------------------

    private static async Task<int> ClientAsync(Dictionary<string, string> options)
    {
        var url = options.GetValueOrDefault("url", "http://127.0.0.1:18300") + "/v1/chat/completions";
        var streams = int.Parse(options.GetValueOrDefault("streams", "200"), CultureInfo.InvariantCulture);
        var label = options.GetValueOrDefault("label", "run");
        using var handler = new SocketsHttpHandler { MaxConnectionsPerServer = int.MaxValue, PooledConnectionLifetime = Timeout.InfiniteTimeSpan, UseProxy = false };
        using var http = new HttpClient(handler) { Timeout = TimeSpan.FromMinutes(5) };
        var results = new StreamResult[streams];
        var started = Stopwatch.GetTimestamp();
        await Parallel.ForEachAsync(Enumerable.Range(0, streams), new ParallelOptions { MaxDegreeOfParallelism = streams }, async (i, _) =>
            results[i] = await RunStreamAsync(http, url));

        var ok = results.Count(r => r.Ok);
        var latencies = results.Where(r => r.Ok).SelectMany(r => r.LatenciesMicroseconds).Order().ToArray();
        var firstTokens = results.Where(r => r.Ok && r.FirstTokenMs > 0).Select(r => r.FirstTokenMs).Order().ToArray();
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"{label}: streams ok={ok} failed={streams - ok} tokens={latencies.Length} latency_us p50={Percentile(latencies, 0.5):F0} p99={Percentile(latencies, 0.99):F0} ttft_ms p50={Percentile(firstTokens, 0.5):F2} p99={Percentile(firstTokens, 0.99):F2} wall_s={Stopwatch.GetElapsedTime(started).TotalSeconds:F1}"));
        return ok == streams ? 0 : 1;
    }

    private static async Task<int> FirstTokenAsync(Dictionary<string, string> options)
    {
        var url = options.GetValueOrDefault("url", "http://127.0.0.1:18300") + "/v1/chat/completions";
        var requests = int.Parse(options.GetValueOrDefault("requests", "30"), CultureInfo.InvariantCulture);
        using var handler = new SocketsHttpHandler { PooledConnectionLifetime = Timeout.InfiniteTimeSpan, UseProxy = false };
        using var http = new HttpClient(handler) { Timeout = TimeSpan.FromMinutes(1) };
        var times = new List<double>(requests);
        for (var i = 0; i <= requests; i++)
        {
            var result = await RunStreamAsync(http, url, stopAtFirstToken: true);
            if (i > 0 && result.FirstTokenMs > 0)
            {
                // The first request opens the connection; it is not counted.
                times.Add(result.FirstTokenMs);
            }
        }

        var sorted = times.Order().ToArray();
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"first_token_ms p50={Percentile(sorted, 0.5):F2} p99={Percentile(sorted, 0.99):F2} n={sorted.Length}"));
        return sorted.Length == requests ? 0 : 1;
    }

    private static async Task<StreamResult> RunStreamAsync(HttpClient http, string url, bool stopAtFirstToken = false)
    {
        var result = new StreamResult();
        var start = Stopwatch.GetTimestamp();
        try
        {
            using var request = new HttpRequestMessage(HttpMethod.Post, url)
            {
                Content = new StringContent("""{"model":"bench","stream":true,"messages":[{"role":"user","content":"go"}]}""", Encoding.UTF8, "application/json"),
            };
            using var response = await http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead);
            if (!response.IsSuccessStatusCode)
            {
                return result;
            }

            await using var stream = await response.Content.ReadAsStreamAsync();
            var done = false;
            await foreach (var item in SseParser.Create(stream, (_, data) => Stamp(data)).EnumerateAsync())
            {
                var now = Stopwatch.GetTimestamp();
                if (item.Data == -2)
                {
                    done = true;
                    break;
                }

                if (item.Data > 0)
                {
                    if (result.FirstTokenMs == 0)
                    {
                        result.FirstTokenMs = Stopwatch.GetElapsedTime(start, now).TotalMilliseconds;
                        if (stopAtFirstToken)
                        {
                            return result;
                        }
                    }

                    result.LatenciesMicroseconds.Add(Stopwatch.GetElapsedTime(item.Data, now).TotalMicroseconds);
                }
            }

            result.Ok = done && result.LatenciesMicroseconds.Count > 0;
        }
        catch (Exception exception) when (exception is HttpRequestException or IOException or TaskCanceledException)
        {
            result.Ok = false;
        }

        return result;
    }

    /// <summary>The stamp in a chunk's content (-2 for [DONE], 0 for other events).</summary>
    private static long Stamp(ReadOnlySpan<byte> data)
    {
        if (data.SequenceEqual("[DONE]"u8))
        {
            return -2;
        }

        var at = data.IndexOf("\"content\":\""u8);
        if (at < 0)
        {
            return 0;
        }

        var digits = data[(at + 11)..];
        long value = 0;
        var count = 0;
        while (count < digits.Length && digits[count] is >= (byte)'0' and <= (byte)'9')
        {
            value = (value * 10) + (digits[count] - '0');
            count++;
        }

        return count >= 6 ? value : 0;
    }

    private static double Percentile(double[] sorted, double q) =>
        sorted.Length == 0 ? double.NaN : sorted[Math.Min(sorted.Length - 1, (int)Math.Ceiling(q * sorted.Length) - 1)];

    private sealed class StreamResult
    {
        public bool Ok { get; set; }

        public double FirstTokenMs { get; set; }

        public List<double> LatenciesMicroseconds { get; } = new(256);
    }
}
