// `HarmonyProxy setup <client>`: writes a client's configuration for this proxy, then exits
if (HarmonyProxy.Setup.ClientSetupCommand.IsInvoked(args))
{
    return await HarmonyProxy.Setup.ClientSetupCommand.RunAsync(args, Console.Out, Console.Error);
}

var builder = WebApplication.CreateBuilder(args);

// Configuration: the root appsettings.json, environment, the predecessor's variable names
builder.AddHarmonyProxyConfiguration();

// Logging: Serilog, JSON lines in containers, text in development
builder.AddHarmonyProxyLogging();

// OpenTelemetry traces and metrics over OTLP, when OTEL_EXPORTER_OTLP_ENDPOINT is set
builder.AddHarmonyProxyTelemetry();

// Settings: each room's options, bound from its own section, checked at start-up
builder.AddHarmonyProxySettings();

// Services: the typed llama-server client, the backends, the request engine, metrics and health
builder.AddHarmonyProxy();

// Memory: the reasoning memory and stored responses (in-process or Redis), the keys that seal reasoning
builder.AddHarmonyProxyMemory();

// Security: client keys, per-client limits, Kestrel limits
builder.AddHarmonyProxySecurity();

// Transport: sockets and Kestrel pipes complete inline when the runtime's switch is on
builder.AddHarmonyProxyTransport();

// CORS for browser clients, only for the configured origins (off by default)
builder.AddHarmonyProxyCors();

// Graceful drain on SIGTERM: not ready, new requests 503, open streams finish or end cleanly
builder.AddHarmonyProxyDrain();

// The request inspector at /ui: recent requests and their traffic, loopback only unless a token is set
builder.AddHarmonyProxyInspector();

var app = builder.Build();

// Step 1: the middleware every request passes, in this order (README, Architecture).
// Errors in OpenAI's shape, never a stack trace
app.UseHarmonyProxyErrors();

// Request ids, one summary line per request, routing and HTTP metrics
app.UseHarmonyProxyObservability();

// The inspector keeps each API request's traffic, and guards /ui
app.UseHarmonyProxyInspector();

// While draining: 503 with Retry-After for new requests
app.UseHarmonyProxyDrain();

// CORS preflight answers and headers, before the key check (a preflight carries no key)
app.UseHarmonyProxyCors();

// Client keys (401) and per-client rate and concurrency limits (429)
app.UseHarmonyProxySecurity();

// Endpoints: /v1/chat/completions, /v1/responses, /v1/messages, llama-server's other routes, /healthz, /readyz, /metrics, 404 for the rest
app.MapHarmonyProxy();

app.Run();
return 0;
