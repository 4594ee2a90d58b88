using System.Text;
using HarmonyProxy.Wire;

namespace HarmonyProxy.Tests.Wire;

/// <summary>llama-server's model list, in its single-model and router shapes.</summary>
public sealed class LlamaServerModelsTests
{
    [Fact]
    public void OneModel_HasNoStatus_AndIsShownLoaded()
    {
        var models = Parse("""{"object":"list","data":[{"id":"gpt-oss-20b","aliases":["gpt-oss","oss"],"object":"model","owned_by":"llamacpp"}]}""");

        var model = Assert.Single(models!);
        Assert.Null(model.Status);
        Assert.Equal("loaded", model.State);
        Assert.True(model.Answers("GPT-OSS"));
        Assert.False(model.Answers("gpt-oss-120b"));
    }

    [Fact]
    public void Router_EachModelHasItsStatus_AsAnObjectOrAString()
    {
        var models = Parse("""{"data":[{"id":"a","status":{"value":"loaded","args":[]}},{"id":"b","status":"sleeping"},{"id":"c","status":{"value":"unloaded"}}]}""");

        Assert.Equal([("a", "loaded"), ("b", "sleeping"), ("c", "unloaded")], models!.Select(model => (model.Id, model.State)));
    }

    [Theory]
    [InlineData("<html>")]
    [InlineData("""{"models":[]}""")]
    [InlineData("[]")]
    public void NoModelList_IsNull(string body) => Assert.Null(Parse(body));

    private static IReadOnlyList<LlamaServerModel>? Parse(string json) => LlamaServerModels.Parse(Encoding.UTF8.GetBytes(json));
}
