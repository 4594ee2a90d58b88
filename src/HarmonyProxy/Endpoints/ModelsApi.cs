using HarmonyProxy.Upstream;

namespace HarmonyProxy.Endpoints;

/// <summary><c>GET /v1/models</c> and <c>/v1/models/{id}</c>, passed through from llama-server (IDE model pickers read them).</summary>
internal static class ModelsApi
{
    public static IEndpointRouteBuilder MapModelsApi(this IEndpointRouteBuilder app)
    {
        app.MapGet("/v1/models", (HttpContext context, UpstreamClient upstream) => ForwardAsync(context, upstream, "models"));
        app.MapGet("/v1/models/{**id}", (HttpContext context, UpstreamClient upstream, string id) => ForwardAsync(context, upstream, "models/" + Uri.EscapeDataString(id)));
        app.MapGet("/models", (HttpContext context, UpstreamClient upstream) => ForwardAsync(context, upstream, "models"));
        return app;
    }

    private static async Task ForwardAsync(HttpContext context, UpstreamClient upstream, string path)
    {
        HttpResponseMessage response;
        try
        {
            response = await upstream.GetAsync(path, context.Request.Headers.Authorization, context.RequestAborted);
        }
        catch (OperationCanceledException) when (context.RequestAborted.IsCancellationRequested)
        {
            return;
        }
        catch (Exception exception) when (exception is HttpRequestException or OperationCanceledException)
        {
            var failure = UpstreamFailure.Unreachable(".");
            await ErrorResults.WriteAsync(context, failure.Status, failure.Message, failure.Type, failure.Code);
            return;
        }

        using (response)
        {
            if ((int)response.StatusCode >= 500)
            {
                var failure = await UpstreamFailure.FromResponseAsync(response, context.RequestAborted);
                await ErrorResults.WriteAsync(context, failure.Status, failure.Message, failure.Type, failure.Code, retryAfter: failure.RetryAfter);
                return;
            }

            context.Response.StatusCode = (int)response.StatusCode;
            context.Response.ContentType = response.Content.Headers.ContentType?.ToString() ?? "application/json";
            await response.Content.CopyToAsync(context.Response.Body, context.RequestAborted);
        }
    }
}
