using HarmonyProxy.Diagnostics;
using HarmonyProxy.Wire;
using Microsoft.Extensions.Options;

namespace HarmonyProxy.Upstream;

/// <summary>One readiness probe's finding: is llama-server ready, in words, and what <c>/props</c> said.</summary>
internal sealed record UpstreamSetup(bool Ready, string State, LlamaServerProps? Props);

/// <summary>
/// What the proxy knows of llama-server's setup, told to operators: one log line when it is
/// first found and whenever it changes, <c>harmony_proxy_upstream_info</c>, a warning metric
/// when the chat template is not gpt-oss's, and the flavour of the first completion.
/// </summary>
internal sealed class UpstreamSetupReport(ProxyMetrics metrics, IOptions<UpstreamOptions> options, ILogger<UpstreamSetupReport> logger)
{
    private readonly Lock _gate = new();
    private readonly string _upstream = options.Value.ApiBaseUri().GetLeftPart(UriPartial.Authority);
    private LlamaServerProps? _props;
    private int _flavourReported;

    public UpstreamSetup? Current { get; private set; }

    /// <summary>What the last <c>/props</c> that answered said, or null before one did.</summary>
    public LlamaServerProps? Props
    {
        get
        {
            lock (_gate)
            {
                return _props;
            }
        }
    }

    public void Observe(UpstreamSetup setup)
    {
        ArgumentNullException.ThrowIfNull(setup);
        lock (_gate)
        {
            if (setup == Current)
            {
                return;
            }

            Current = setup;
            if (setup.Props is { } props && props != _props)
            {
                metrics.UpstreamDescribed(_props is { } previous ? InfoLabels(previous) : null, InfoLabels(props), props.TemplateIsGptOss == false);
                _props = props;
                if (props.TemplateIsGptOss == false)
                {
                    Log.UpstreamTemplateMismatch(logger, _upstream, props.Model);
                }
            }

            var known = setup.Props ?? _props;
            var template = known?.TemplateIsGptOss switch
            {
                true => "yes",
                false => "NO",
                null => "unknown",
            };
            Log.UpstreamFound(logger, _upstream, setup.State, known?.Build, known?.Model, template, known?.TotalSlots, known?.ContextSize);
        }
    }

    /// <summary>Logs the flavour of the first completion llama-server streamed (raw, stripped, parsed or plain); later ones are not logged.</summary>
    public void ObserveFirstResponse(string flavour)
    {
        if (Interlocked.Exchange(ref _flavourReported, 1) == 0)
        {
            Log.UpstreamFirstResponse(logger, flavour);
        }
    }

    private static string[] InfoLabels(LlamaServerProps props) =>
    [
        props.Build ?? "unknown",
        props.Model ?? "unknown",
        props.ContextSize?.ToString(System.Globalization.CultureInfo.InvariantCulture) ?? "unknown",
        props.TotalSlots?.ToString(System.Globalization.CultureInfo.InvariantCulture) ?? "unknown",
    ];
}
