using HarmonyProxy.Endpoints;
using HarmonyProxy.Wire;
using Microsoft.Extensions.Options;

namespace HarmonyProxy.Inspector;

/// <summary>
/// <c>/ui</c>: the inspector's page (plain HTML, CSS and JavaScript embedded in the executable: no
/// build step, no CDN, works offline) and the JSON API behind it, <c>/ui/api/requests</c> (newest
/// first; <c>?status=</c>, <c>?client=</c>, <c>?model=</c> filter, <c>?q=</c> searches the kept
/// text) and <c>/ui/api/requests/{id}</c> (one request whole).
/// </summary>
internal static class InspectorApi
{
    private static readonly (string Route, string File, string ContentType)[] Files =
    [
        ("/ui", "index.html", "text/html; charset=utf-8"),
        ("/ui/app.js", "app.js", "text/javascript; charset=utf-8"),
        ("/ui/app.css", "app.css", "text/css; charset=utf-8"),
    ];

    public static IEndpointRouteBuilder MapInspectorApi(this IEndpointRouteBuilder app)
    {
        foreach (var (route, file, contentType) in Files)
        {
            app.MapGet(route, (HttpContext context) => FileAsync(context, file, contentType));
        }

        app.MapGet("/ui/api/requests", (HttpContext context, InspectorRing ring, Redactor redactor) => ListAsync(context, ring, redactor));
        app.MapGet("/ui/api/requests/{id}", (HttpContext context, InspectorRing ring, Redactor redactor, string id) => DetailAsync(context, ring, redactor, id));
        app.MapPost("/ui/login", LoginAsync);
        return app;
    }

    /// <summary>The login form, for a browser when <c>Inspector:Token</c> is set and it has not presented it.</summary>
    public static Task LoginPageAsync(HttpContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        context.Response.StatusCode = StatusCodes.Status401Unauthorized;
        return FileAsync(context, "login.html", "text/html; charset=utf-8");
    }

    private static async Task FileAsync(HttpContext context, string file, string contentType)
    {
        await using var stream = typeof(InspectorApi).Assembly.GetManifestResourceStream("inspector/" + file)
            ?? throw new InvalidOperationException($"The inspector's {file} is not embedded.");
        context.Response.ContentType = contentType;
        context.Response.Headers.CacheControl = "no-store";
        context.Response.Headers["Content-Security-Policy"] = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; frame-ancestors 'none'";
        context.Response.Headers.XContentTypeOptions = "nosniff";
        await stream.CopyToAsync(context.Response.Body, context.RequestAborted);
    }

    private static async Task ListAsync(HttpContext context, InspectorRing ring, Redactor redactor)
    {
        var query = context.Request.Query;
        var status = query["status"].ToString();
        var client = query["client"].ToString();
        var model = query["model"].ToString();
        var search = query["q"].ToString();
        var requests = ring.Recent()
            .Where(trace => search.Length == 0 || trace.Mentions(search, redactor))
            .Select(trace => trace.Snapshot(redactor, withBodies: false))
            .Where(request => status.Length == 0 || StatusMatches(request.Status, status))
            .Where(request => client.Length == 0 || string.Equals(request.Result?.Client, client, StringComparison.OrdinalIgnoreCase))
            .Where(request => model.Length == 0 || string.Equals(request.Result?.Model, model, StringComparison.OrdinalIgnoreCase));
        await WriteJsonAsync(context, InspectorJson.List(requests));
    }

    private static async Task DetailAsync(HttpContext context, InspectorRing ring, Redactor redactor, string id)
    {
        if (ring.Find(id) is not { } trace)
        {
            await ErrorResults.WriteAsync(context, StatusCodes.Status404NotFound, $"No request '{id}' is kept (the inspector keeps the last Inspector:MaxRequests).", OpenAiError.InvalidRequest, "request_not_found");
            return;
        }

        await WriteJsonAsync(context, InspectorJson.Detail(trace.Snapshot(redactor, withBodies: true)));
    }

    /// <summary>The form posts the token; the right one sets a cookie (HttpOnly, SameSite=Strict, Secure over HTTPS) and goes to the page.</summary>
    private static async Task LoginAsync(HttpContext context, IOptions<InspectorOptions> options)
    {
        var token = options.Value.Token;
        var form = context.Request.HasFormContentType ? await context.Request.ReadFormAsync(context.RequestAborted) : null;
        if (string.IsNullOrEmpty(token) || !InspectorAccess.Matches(form?["token"].ToString(), token))
        {
            await LoginPageAsync(context);
            return;
        }

        context.Response.Cookies.Append(InspectorAccess.CookieName, token, new CookieOptions
        {
            HttpOnly = true,
            SameSite = SameSiteMode.Strict,
            Secure = context.Request.IsHttps,
            Path = "/ui",
        });
        context.Response.Redirect("/ui");
    }

    /// <summary><c>2xx</c>-style classes, or one status.</summary>
    private static bool StatusMatches(int status, string wanted) =>
        wanted.Length == 3 && wanted.EndsWith("xx", StringComparison.OrdinalIgnoreCase) ? status / 100 == wanted[0] - '0' : status.ToString(System.Globalization.CultureInfo.InvariantCulture) == wanted;

    private static async Task WriteJsonAsync(HttpContext context, byte[] json)
    {
        context.Response.ContentType = "application/json";
        context.Response.Headers.CacheControl = "no-store";
        await context.Response.Body.WriteAsync(json, context.RequestAborted);
    }
}
