using System.Net;
using System.Security.Cryptography;
using System.Text;

namespace HarmonyProxy.Inspector;

/// <summary>
/// Who may open the inspector, which holds prompts and answers: without <c>Inspector:Token</c>,
/// connections from loopback only; with it, whoever presents it (<c>Authorization: Bearer</c>, or
/// the cookie the login form sets). A client's API key never opens it.
/// </summary>
internal static class InspectorAccess
{
    public const string CookieName = "harmony_inspector";

    public static bool Allows(HttpContext context, string? token)
    {
        ArgumentNullException.ThrowIfNull(context);
        if (string.IsNullOrEmpty(token))
        {
            return context.Connection.RemoteIpAddress is { } address && IPAddress.IsLoopback(address);
        }

        var authorization = context.Request.Headers.Authorization.ToString();
        var presented = authorization.StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase)
            ? authorization["Bearer ".Length..].Trim()
            : context.Request.Cookies[CookieName];
        return Matches(presented, token);
    }

    /// <summary>Constant time, so the comparison's duration tells nothing of the token.</summary>
    public static bool Matches(string? presented, string token) =>
        presented is not null && CryptographicOperations.FixedTimeEquals(SHA256.HashData(Encoding.UTF8.GetBytes(presented)), SHA256.HashData(Encoding.UTF8.GetBytes(token)));
}
