using System.Text.Json;
using System.Text.Json.Nodes;

namespace HarmonyProxy.Preparation;

/// <summary>
/// <c>reasoning_effort</c> that works on every llama-server build (llama-server.md §5): builds
/// up to mid 2026 ignore the top-level field, but every build passes
/// <c>chat_template_kwargs.reasoning_effort</c> to the gpt-oss template. The client's value (the
/// top-level field, or the Responses-style <c>reasoning.effort</c>), else the deployment's
/// default, is written into both, keeping the client's other kwargs.
/// </summary>
internal static class ReasoningEffort
{
    /// <summary>What gpt-oss knows; <c>minimal</c> and <c>none</c>, which other models accept, become <c>low</c>: gpt-oss cannot switch its reasoning off.</summary>
    public static string? Normalize(string value) => value switch
    {
        "low" or "medium" or "high" => value,
        "minimal" or "none" => "low",
        "xhigh" => "high",
        _ => null,
    };

    /// <summary>Writes the effort into the request; a problem when the client's value is not one gpt-oss or OpenAI knows.</summary>
    public static RequestProblem? Apply(JsonObject request, string? deploymentDefault)
    {
        ArgumentNullException.ThrowIfNull(request);
        string? requested;
        string param;
        if (request["reasoning_effort"] is { } topLevel)
        {
            param = "reasoning_effort";
            requested = topLevel.GetValueKind() == JsonValueKind.String ? topLevel.GetValue<string>() : null;
            if (requested is null && topLevel.GetValueKind() != JsonValueKind.Null)
            {
                return Invalid(param, topLevel.ToJsonString());
            }
        }
        else if (request["reasoning"] is JsonObject reasoning && reasoning["effort"] is { } effort)
        {
            param = "reasoning.effort";
            requested = effort.GetValueKind() == JsonValueKind.String ? effort.GetValue<string>() : null;
            if (requested is null && effort.GetValueKind() != JsonValueKind.Null)
            {
                return Invalid(param, effort.ToJsonString());
            }
        }
        else
        {
            param = "reasoning_effort";
            requested = null;
        }

        if (requested is not null && Normalize(requested) is null)
        {
            return Invalid(param, requested);
        }

        if (request["chat_template_kwargs"] is { } kwargs && kwargs is not JsonObject)
        {
            return new RequestProblem(400, "'chat_template_kwargs' must be an object.", "chat_template_kwargs", "invalid_type");
        }

        var kwargsObject = request["chat_template_kwargs"] as JsonObject;
        var effortValue = requested is not null ? Normalize(requested)
            : kwargsObject?["reasoning_effort"] is not null ? null
            : deploymentDefault is not null ? Normalize(deploymentDefault)
            : null;
        if (effortValue is null)
        {
            return null;
        }

        if (kwargsObject is null)
        {
            kwargsObject = [];
            request["chat_template_kwargs"] = kwargsObject;
        }

        kwargsObject["reasoning_effort"] = effortValue;
        request["reasoning_effort"] = effortValue;
        return null;
    }

    private static RequestProblem Invalid(string param, string value) =>
        new(400, $"'{param}' must be one of low, medium, high (minimal and none are served as low); got {value}.", param, "invalid_value");
}
