using System.Text.Json.Nodes;
using HarmonyProxy.Preparation;
using HarmonyProxy.Preparation.Responses;
using HarmonyProxy.Wire;

namespace HarmonyProxy.Tests.Preparation;

/// <summary>
/// What a Responses or chat request holds that the proxy cannot honour is a 400 naming the field,
/// never an empty message, a dropped part or a fresh start.
/// </summary>
public sealed class ResponsesValidationTests
{
    private const string Tools = ""","tools":[{"type":"function","name":"read_file","parameters":{"type":"object"}}]""";

    public static TheoryData<string, string> RefusedResponses => new()
    {
        { """{"input":[{"role":"user","content":[{"type":"input_audio","input_audio":{"data":"AAAA","format":"wav"}}]}]}""", "input[0].content[0]" },
        { """{"input":[{"role":"user","content":[{"type":"input_file","file_id":"file_1"}]}]}""", "input[0].content[0]" },
        { """{"input":[{"role":"user","content":[{"type":"input_text","text":5}]}]}""", "input[0].content[0].text" },
        { """{"input":[{"role":"user","content":["hi"]}]}""", "input[0].content[0]" },
        { """{"input":[{"role":"user","content":[{"type":"input_video"}]}]}""", "input[0].content[0].type" },
        { """{"input":[{"role":"user","content":[{"type":"input_image","file_id":"file_1"}]}]}""", "input[0].content[0].image_url" },
        { """{"input":[{"type":"function_call_output","call_id":"c1","output":5}]}""", "input[0].output" },
        { """{"input":[{"type":"function_call_output","call_id":"c1","output":{"text":"ok"}}]}""", "input[0].output" },
        { """{"input":[{"type":"function_call_output","call_id":"c1","output":[{"type":"input_file","file_id":"f"}]}]}""", "input[0].output[0]" },
        { """{"input":"hi","conversation":"conv_123"}""", "conversation" },
        { """{"input":"hi","background":true}""", "background" },
        { """{"input":"hi","truncation":"auto"}""", "truncation" },
        { """{"input":"hi","truncation":"middle"}""", "truncation" },
        { """{"input":"hi","text":{"format":{"type":"yaml"}}}""", "text.format.type" },
        { """{"input":"hi","text":{"format":{"type":"json_schema","name":"x"}}}""", "text.format.schema" },
        { """{"input":"hi","text":{"verbosity":"loud"}}""", "text.verbosity" },
        { """{"input":"hi","tool_choice":5""" + Tools + "}", "tool_choice" },
        { """{"input":"hi","tool_choice":{"type":"function","name":"write_file"}""" + Tools + "}", "tool_choice" },
        { """{"input":"hi","temperature":"hot"}""", "temperature" },
        { """{"input":"hi","temperature":3}""", "temperature" },
        { """{"input":"hi","model":5}""", "model" },
        { """{"input":"hi","metadata":5}""", "metadata" },
        { """{"input":"hi","metadata":{"a":1}}""", "metadata" },
        { """{"input":"hi","include":[5]}""", "include" },
        { """{"input":[]}""", "input" },
    };

    [Theory]
    [MemberData(nameof(RefusedResponses))]
    public void Responses_WhatCannotBeHonoured_Is400NamingTheField(string body, string param)
    {
        var request = ResponsesRequestMapper.Map(JsonNode.Parse(body)!.AsObject(), null, _ => null, out var problem);

        Assert.Null(request);
        Assert.Equal(400, problem!.Status);
        Assert.Equal(param, problem.Param);
    }

    [Fact]
    public void Responses_OnlyItemsLeftOut_SaysSo_NotThatAMessageIsMissing()
    {
        ResponsesRequestMapper.Map(JsonNode.Parse("""{"input":[{"type":"item_reference","id":"msg_1"}]}""")!.AsObject(), null, _ => null, out var problem);

        Assert.Equal("input", problem!.Param);
        Assert.Contains("item_reference", problem.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("at least one message", problem.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Responses_WhatOpenAiAcceptsAndTheProxyCanServe_IsMapped()
    {
        var body = """
            {"model":"gpt-oss-20b","truncation":"disabled","background":false,"text":{"verbosity":"low","format":{"type":"text"}},
             "metadata":{"team":"a"},"tool_choice":{"type":"function","name":"read_file"},
             "input":[{"role":"user","content":"hi"},
                      {"type":"function_call","call_id":"c1","name":"read_file","arguments":"{}"},
                      {"type":"function_call_output","call_id":"c1","output":[{"type":"input_text","text":"line one"},{"type":"input_text","text":"line two"}]}]
            """ + Tools + "}";

        var request = ResponsesRequestMapper.Map(JsonNode.Parse(body)!.AsObject(), null, _ => null, out var problem);

        Assert.Null(problem);
        Assert.Equal("line one\nline two", request!.ChatRequest["messages"]![2]!["content"]!.GetValue<string>());
    }

    public static TheoryData<string, string> RefusedChat => new()
    {
        { """{"temperature":"hot"}""", "temperature" },
        { """{"model":5}""", "model" },
        { """{"metadata":5}""", "metadata" },
        { """{"max_tokens":0}""", "max_tokens" },
        { """{"top_p":2}""", "top_p" },
        { """{"seed":"x"}""", "seed" },
        { """{"response_format":{"type":"yaml"}}""", "response_format.type" },
        { """{"tool_choice":{"type":"function","function":{"name":"write_file"}},"tools":[{"type":"function","function":{"name":"read_file"}}]}""", "tool_choice" },
        { """{"tool_choice":"sometimes"}""", "tool_choice" },
    };

    [Theory]
    [MemberData(nameof(RefusedChat))]
    public void Chat_FieldsOfTheWrongTypeOrRange_Are400NamingTheField(string fields, string param)
    {
        var body = JsonNode.Parse(fields)!.AsObject();
        body["messages"] = JsonNode.Parse("""[{"role":"user","content":"hi"}]""");

        RequestPreparer.Prepare(body, new RequestPreparationOptions(), out var problem);

        Assert.Equal(400, problem!.Status);
        Assert.Equal(param, problem.Param);
    }

    [Theory]
    [InlineData("""[{"type":"video","video":{}}]""", "messages[0].content[0].type")]
    [InlineData("""[{"type":"text","text":5}]""", "messages[0].content[0].text")]
    [InlineData("""[{"type":"text"}]""", "messages[0].content[0].text")]
    public void Chat_ContentPartsOfUnknownTypeOrWithoutText_Are400(string parts, string param)
    {
        var body = JsonNode.Parse($$"""{"messages":[{"role":"user","content":{{parts}}}]}""")!.AsObject();

        RequestPreparer.Prepare(body, new RequestPreparationOptions(), out var problem);

        Assert.Equal(param, problem!.Param);
    }
}
