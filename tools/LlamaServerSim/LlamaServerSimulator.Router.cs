using System.Collections.Concurrent;
using System.Text.Json.Nodes;

namespace LlamaServerSim;

/// <summary>
/// llama-server's router mode (llama-server.md §4.5): one server, several models, each
/// <c>unloaded</c>, <c>loading</c>, <c>loaded</c> or <c>sleeping</c>; a request names its model,
/// which is loaded on demand; <c>/props</c> answers for the model named in <c>?model=</c>.
/// </summary>
public sealed partial class LlamaServerSimulator
{
    private readonly ConcurrentDictionary<string, string> _modelStatus = new(StringComparer.Ordinal);

    /// <summary>A router model's status as <c>/models</c> shows it.</summary>
    public string ModelStatus(string model) =>
        _modelStatus.GetOrAdd(model, name => Options.RouterModels is { Count: > 0 } models && name == models[0] ? "loaded" : "unloaded");

    /// <summary>Sets a router model's status (a model put to sleep by <c>--sleep-idle-seconds</c>, one loading).</summary>
    public void SetModelStatus(string model, string status) => _modelStatus[model] = status;

    /// <summary>True when the router has the model; it is loaded then, whatever it was.</summary>
    private bool RouteToModel(string? model)
    {
        if (model is null || Options.RouterModels?.Contains(model) != true)
        {
            return false;
        }

        _modelStatus[model] = "loaded";
        return true;
    }

    private string RouterModelsJson() => new JsonObject
    {
        ["object"] = "list",
        ["data"] = new JsonArray([.. Options.RouterModels!.Select(model => (JsonNode)new JsonObject
        {
            ["id"] = model,
            ["object"] = "model",
            ["owned_by"] = "llamacpp",
            ["created"] = 1765400000,
            ["in_cache"] = true,
            ["status"] = new JsonObject { ["value"] = ModelStatus(model), ["args"] = new JsonArray() },
        })]),
    }.ToJsonString(Compact);

    private IResult RouterProps(HttpContext context)
    {
        var model = context.Request.Query["model"].ToString();
        if (string.IsNullOrEmpty(model) || Options.RouterModels?.Contains(model) != true)
        {
            return Results.Json(Error("a model must be named in router mode (?model=)", "invalid_request_error", 400), statusCode: 400);
        }

        var props = JsonNode.Parse(PropsJson())!.AsObject();
        props["model_alias"] = model;
        return Results.Text(props.ToJsonString(Compact), "application/json");
    }
}
