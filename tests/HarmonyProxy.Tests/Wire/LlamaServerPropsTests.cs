using System.Text;
using HarmonyProxy.Wire;

namespace HarmonyProxy.Tests.Wire;

public sealed class LlamaServerPropsTests
{
    [Fact]
    public void Parse_ReadsWhatAnOperatorNeeds()
    {
        var props = LlamaServerProps.Parse(Encoding.UTF8.GetBytes("""
            {"default_generation_settings":{"n_ctx":32768,"params":{}},"total_slots":4,"model_alias":"gpt-oss-120b",
             "model_path":"/m/gpt-oss-120b-mxfp4.gguf","chat_template":"{{- '<|start|>' + role + '<|channel|>' }}","build_info":"b8681-Debian","is_sleeping":false}
            """));

        Assert.Equal(new LlamaServerProps("b8681-Debian", "gpt-oss-120b", 32768, 4, "{{- '<|start|>' + role + '<|channel|>' }}"), props);
        Assert.True(props!.TemplateIsGptOss);
    }

    [Fact]
    public void Parse_OlderBuild_EveryFieldOptional_ModelFromItsPath()
    {
        var props = LlamaServerProps.Parse(Encoding.UTF8.GetBytes("""{"model_path":"C:\\models\\gpt-oss-20b.gguf","total_slots":"four"}"""));

        Assert.Equal(new LlamaServerProps(null, "gpt-oss-20b.gguf", null, null, null), props);
        Assert.Null(props!.TemplateIsGptOss);
    }

    [Fact]
    public void TemplateIsGptOss_FalseForAnotherModelsTemplate()
    {
        var props = LlamaServerProps.Parse(Encoding.UTF8.GetBytes("""{"chat_template":"{% for m in messages %}<|im_start|>{{ m.role }}{% endfor %}"}"""));

        Assert.False(props!.TemplateIsGptOss);
    }

    [Theory]
    [InlineData("[]")]
    [InlineData("\"ok\"")]
    [InlineData("{not json")]
    [InlineData("")]
    public void Parse_NotAnObject_IsNull(string body)
    {
        Assert.Null(LlamaServerProps.Parse(Encoding.UTF8.GetBytes(body)));
    }
}
