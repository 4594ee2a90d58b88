using System.Text.Json;
using HarmonyProxy.Upstream;
using HarmonyProxy.Wire;
using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace Microsoft.AspNetCore.Builder;

/// <summary><c>{"status":"ready|not_ready|alive","checks":{"upstream":"…why…"}}</c>: a probe's answer says why.</summary>
internal static class HealthResponses
{
    public static async Task WriteAsync(HttpContext context, HealthReport report)
    {
        context.Response.ContentType = "application/json";
        context.Response.Headers.CacheControl = "no-store";
        var live = report.Entries.Count == 0;
        await using var json = new Utf8JsonWriter(context.Response.Body, OpenAiJson.WriterOptions);
        json.WriteStartObject();
        json.WriteString("status", live ? "alive" : report.Status == HealthStatus.Healthy ? "ready" : "not_ready");
        json.WriteStartObject("checks");
        foreach (var (name, entry) in report.Entries)
        {
            json.WriteStartObject(name);
            json.WriteString("status", entry.Status.ToString().ToLowerInvariant());
            json.WriteString("description", entry.Description);
            if (entry.Data.TryGetValue(UpstreamReadinessCheck.ModelsData, out var data) && data is IReadOnlyDictionary<string, IReadOnlyList<LlamaServerModel>> models)
            {
                // Each backend's models and their status: {"127.0.0.1:8080":{"gpt-oss-20b":"loaded"}}.
                json.WriteStartObject("models");
                foreach (var (backend, list) in models)
                {
                    json.WriteStartObject(backend);
                    foreach (var model in list)
                    {
                        json.WriteString(model.Id, model.State);
                    }

                    json.WriteEndObject();
                }

                json.WriteEndObject();
            }

            json.WriteEndObject();
        }

        json.WriteEndObject();
        json.WriteEndObject();
    }
}
