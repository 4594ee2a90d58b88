using System.Diagnostics.Tracing;
using System.Globalization;
using Microsoft.Diagnostics.NETCore.Client;
using Microsoft.Diagnostics.Tracing.Etlx;
using Microsoft.Diagnostics.Tracing.Parsers;
using Microsoft.Diagnostics.Tracing.Parsers.Clr;

namespace HarmonyProxy.AllocTrace;

/// <summary>
/// Who allocates what on the token path, read from the runtime's own allocation samples:
/// <c>collect --pid P --out F</c> attaches to a running .NET process over its diagnostics port and
/// records the runtime's randomized allocation samples (on average one per 100 KB allocated, each
/// with the object's type and size and the managed stack) until its standard input closes;
/// <c>report --trace F --tokens N --bytes B</c> spreads the B bytes the process allocated while it
/// relayed N tokens (read from <c>harmony_proxy_allocated_bytes_total</c>) over the samples and
/// prints bytes and objects per token by owner (the proxy, Kestrel and ASP.NET Core, HttpClient
/// and sockets, libraries, the runtime), by type and by allocating method.
/// </summary>
internal static class AllocTraceProgram
{
    public static async Task<int> Main(string[] args)
    {
        var options = new Dictionary<string, string>(StringComparer.Ordinal);
        for (var i = 1; i + 1 < args.Length; i += 2)
        {
            options[args[i].TrimStart('-')] = args[i + 1];
        }

        return args.FirstOrDefault() switch
        {
            "collect" when options.ContainsKey("pid") && options.ContainsKey("out") =>
                await CollectAsync(int.Parse(options["pid"], CultureInfo.InvariantCulture), options["out"]),
            "report" when options.ContainsKey("trace") && options.ContainsKey("tokens") && options.ContainsKey("bytes") =>
                Report(options["trace"], long.Parse(options["tokens"], CultureInfo.InvariantCulture),
                    long.Parse(options["bytes"], CultureInfo.InvariantCulture), int.Parse(options.GetValueOrDefault("top", "25"), CultureInfo.InvariantCulture)),
            _ => Usage(),
        };
    }

    private static int Usage()
    {
        Console.Error.WriteLine("usage: collect --pid P --out trace.nettrace (until stdin closes) | report --trace trace.nettrace --tokens N --bytes B [--top 25]");
        return 2;
    }

    private static async Task<int> CollectAsync(int pid, string path)
    {
        // Randomized allocation sampling (.NET 10) picks objects with a chance that grows with their
        // size, so each sample can be weighed back into an unbiased estimate of bytes and objects
        // (the older allocation tick favours big arrays); JIT and loader events let the rundown at
        // the end name the methods on each stack.
        var keywords = (long)(ClrTraceEventParser.Keywords.AllocationSampling | ClrTraceEventParser.Keywords.Jit | ClrTraceEventParser.Keywords.Loader);
        var client = new DiagnosticsClient(pid);
        using var session = client.StartEventPipeSession(
            [new EventPipeProvider(ClrTraceEventParser.ProviderName, EventLevel.Verbose, keywords)],
            requestRundown: true,
            circularBufferMB: 512);
        await using var file = File.Create(path);
        var copying = session.EventStream.CopyToAsync(file);
        Console.WriteLine("tracing");
        await Console.In.ReadToEndAsync();
        await session.StopAsync(CancellationToken.None);
        await copying;
        return 0;
    }

    private static int Report(string path, long tokens, long bytes, int top)
    {
        var samples = AllocationSample.Read(path);
        var sampledBytes = samples.Sum(sample => sample.Bytes);
        if (sampledBytes == 0 || tokens <= 0)
        {
            Console.Error.WriteLine($"no allocation samples in {path}");
            return 1;
        }

        // The ticks are a sample; the counter is the whole. Each sample stands for its share of it.
        var scale = bytes / sampledBytes / tokens;
        var objects = samples.Sum(sample => sample.Objects) * scale;
        Console.WriteLine(FormattableString.Invariant($"{samples.Count} samples, {bytes / (double)tokens:F0} bytes and about {objects:F1} objects per token ({tokens} tokens)"));
        Table("owner", samples.GroupBy(sample => sample.Owner), scale, top);
        Table("type", samples.GroupBy(sample => sample.Type), scale, top);
        Table("allocated by (owner: method → type)", samples.GroupBy(sample => $"{sample.Owner}: {sample.Site} → {sample.Type}"), scale, top);
        return 0;
    }

    private static void Table(string heading, IEnumerable<IGrouping<string, AllocationSample>> groups, double scale, int top)
    {
        Console.WriteLine();
        Console.WriteLine($"| {heading} | bytes per token | objects per token |");
        Console.WriteLine("|---|---|---|");
        foreach (var group in groups.OrderByDescending(group => group.Sum(sample => sample.Bytes)).Take(top))
        {
            Console.WriteLine(FormattableString.Invariant(
                $"| {group.Key.Replace("|", "\\|", StringComparison.Ordinal)} | {group.Sum(sample => sample.Bytes) * scale:F1} | {group.Sum(sample => sample.Objects) * scale:F2} |"));
        }
    }
}

/// <summary>One allocation tick: the bytes it stands for, the objects that makes of its type, and who allocated it.</summary>
internal sealed record AllocationSample(double Bytes, double Objects, string Type, string Owner, string Site)
{
    // Library code that only does what its caller asked: an allocation inside it belongs to the
    // first caller outside it (a state machine box to the awaiting method, a JSON writer's buffer to
    // whoever writes JSON, a channel's node to whoever writes to the channel).
    private static readonly string[] Plumbing =
    [
        "System.Runtime.", "System.Threading.", "System.Buffers.", "System.Collections.", "System.Linq.", "System.Text.",
        "System.IO.", "System.Span", "System.ReadOnlySpan", "System.Memory", "System.String", "System.Number", "System.Array",
        "System.Enum", "System.Convert", "System.Delegate", "System.Object", "System.Buffer", "System.ValueTuple", "System.Lazy",
        "System.Net.ServerSentEvents.", "System.SpanHelpers", "System.Guid", "System.DateTime", "System.TimeSpan",
        "System.Diagnostics.Stopwatch", "System.Diagnostics.Activity", "System.Diagnostics.DiagnosticListener",
        "System.Diagnostics.Metrics.", "System.Exception", "System.GC",
        "Microsoft.Extensions.Primitives.", "System.Net.Http.Headers.",
    ];

    private static readonly (string Prefix, string Owner)[] Owners =
    [
        ("HarmonyProxy.", "proxy"),
        ("Microsoft.AspNetCore.", "Kestrel and ASP.NET Core"),
        ("System.Net.Http.", "HttpClient"),
        ("System.Net.", "sockets"),
        ("Polly.", "libraries (Polly)"),
        ("Prometheus.", "libraries (prometheus-net)"),
        ("Serilog.", "libraries (Serilog)"),
        ("Microsoft.Extensions.", "libraries (Microsoft.Extensions)"),
    ];

    private const double MeanSamplingDistance = 100 * 1024;

    public static List<AllocationSample> Read(string path)
    {
        var etlx = TraceLog.CreateFromEventPipeDataFile(path);
        using var log = new TraceLog(etlx);
        var samples = new List<AllocationSample>();
        foreach (var traceEvent in log.Events)
        {
            if (traceEvent is not AllocationSampledTraceData sampled)
            {
                continue;
            }

            // Each byte is picked with chance 1/MeanSamplingDistance, so an object of s bytes is
            // picked with chance 1 - e^(-s/d) and stands for 1/chance objects like it.
            var size = Math.Max(sampled.ObjectSize, 1);
            var weight = 1 / -double.ExpM1(-size / MeanSamplingDistance);
            var (owner, site) = Attribute(sampled.CallStack());
            samples.Add(new AllocationSample(size * weight, weight, sampled.TypeName ?? "?", owner, site));
        }

        File.Delete(etlx);
        return samples;
    }

    private static (string Owner, string Site) Attribute(TraceCallStack? stack)
    {
        string? firstNamed = null;
        for (var frame = stack; frame is not null; frame = frame.Caller)
        {
            var method = frame.CodeAddress.FullMethodName;
            if (string.IsNullOrEmpty(method))
            {
                continue;
            }

            firstNamed ??= method;
            if (Plumbing.Any(prefix => method.StartsWith(prefix, StringComparison.Ordinal)))
            {
                continue;
            }

            var owner = Owners.FirstOrDefault(candidate => method.StartsWith(candidate.Prefix, StringComparison.Ordinal)).Owner ?? "other";
            return (owner, Shorten(method));
        }

        return ("runtime", firstNamed is null ? "?" : Shorten(firstNamed));
    }

    // The method without its parameter list: the table is read by people.
    private static string Shorten(string method)
    {
        var parameters = method.IndexOf('(', StringComparison.Ordinal);
        return parameters > 0 ? method[..parameters] : method;
    }
}
