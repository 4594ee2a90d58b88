using System.ClientModel;
using System.Text.Json.Nodes;
using HarmonyProxy.Tests.Infrastructure;
using LlamaServerSim;
using OpenAI.Chat;
using OpenAI.Responses;

#pragma warning disable OPENAI001 // The SDK marks its Responses client experimental.

namespace HarmonyProxy.Tests.EndToEnd;

/// <summary>
/// What the gpt-oss template would lose or confuse, over loopback with the official OpenAI SDK:
/// a client function named like a built-in tool reaches llama-server renamed and comes back under
/// its own name (as a renamed call, and as the built-in call the model makes for it); several
/// system messages reach llama-server as the one it renders.
/// </summary>
public sealed class GptOssTemplateTests
{
    private const string PythonSchema = """{"type":"object","properties":{"code":{"type":"string"}},"required":["code"]}""";

    private const string BuiltInPythonCall = "<|channel|>analysis<|message|>Run the code.<|end|><|start|>assistant<|channel|>analysis to=python code<|message|>print(6*7)<|call|>";

    [Fact]
    public async Task Chat_ABuiltInPythonCall_IsTheClientsPythonCall_AndLlamaServerSawTheFunctionRenamed()
    {
        await using var harness = await LoopbackHarness.StartAsync(SimFlavour.Raw);
        harness.Simulator.Enqueue(new SimScript { RawText = BuiltInPythonCall });
        var options = new ChatCompletionOptions { Tools = { ChatTool.CreateFunctionTool("python", "Runs Python", BinaryData.FromString(PythonSchema)) } };
        var calls = new Dictionary<int, (string Name, string Arguments)>();
        ChatFinishReason? finish = null;

        await foreach (var update in harness.Chat.CompleteChatStreamingAsync([new UserChatMessage("What is 6*7? Use python.")], options))
        {
            foreach (var part in update.ToolCallUpdates)
            {
                var (name, arguments) = calls.GetValueOrDefault(part.Index, (string.Empty, string.Empty));
                calls[part.Index] = (part.FunctionName ?? name, arguments + part.FunctionArgumentsUpdate?.ToString());
            }

            finish ??= update.FinishReason;
        }

        var call = Assert.Single(calls.Values);
        Assert.Equal("python", call.Name);
        Assert.Equal("""{"code":"print(6*7)"}""", call.Arguments);
        Assert.Equal(ChatFinishReason.ToolCalls, finish);
        var upstream = harness.Simulator.Requests.Single();
        Assert.Equal("python_tool", upstream["tools"]![0]!["function"]!["name"]!.GetValue<string>());
    }

    [Fact]
    public async Task Chat_TheRenamedFunction_InTheHistory_GoesBackRenamed_AndARenamedCallComesBackUnderTheClientsName()
    {
        await using var harness = await LoopbackHarness.StartAsync(SimFlavour.Raw);
        harness.Simulator.Enqueue(new SimScript { RawText = "<|channel|>commentary to=functions.python_tool <|constrain|>json<|message|>{\"code\":\"print(2)\"}<|call|>" });
        var options = new ChatCompletionOptions { Tools = { ChatTool.CreateFunctionTool("python", "Runs Python", BinaryData.FromString(PythonSchema)) } };
        List<ChatMessage> history =
        [
            new UserChatMessage("Run two snippets."),
            new AssistantChatMessage([ChatToolCall.CreateFunctionToolCall("call_1", "python", BinaryData.FromString("""{"code":"print(1)"}"""))]),
            new ToolChatMessage("call_1", "1"),
        ];

        ChatCompletion completion = await harness.Chat.CompleteChatAsync(history, options);

        var call = Assert.Single(completion.ToolCalls);
        Assert.Equal("python", call.FunctionName);
        Assert.Equal("""{"code":"print(2)"}""", call.FunctionArguments.ToString());
        var sent = harness.Simulator.Requests.Single()["messages"]!.AsArray();
        Assert.Equal("python_tool", sent[1]!["tool_calls"]![0]!["function"]!["name"]!.GetValue<string>());
    }

    [Fact]
    public async Task Chat_ABuiltInCallNobodyOffered_IsShownAsText_NotAnEmptyTurn()
    {
        await using var harness = await LoopbackHarness.StartAsync(SimFlavour.Raw);
        harness.Simulator.Enqueue(new SimScript { RawText = BuiltInPythonCall });
        var options = new ChatCompletionOptions { Tools = { ChatTool.CreateFunctionTool("read_file", "Reads a file", BinaryData.FromString("""{"type":"object","properties":{"path":{"type":"string"}}}""")) } };

        ChatCompletion completion = await harness.Chat.CompleteChatAsync([new UserChatMessage("What is 6*7?")], options);

        Assert.Empty(completion.ToolCalls);
        Assert.Equal(ChatFinishReason.Stop, completion.FinishReason);
        Assert.Equal("Tool call: python\n```\nprint(6*7)\n```\n", completion.Content.Single().Text);
        Assert.Single(harness.Simulator.Requests);
        Assert.Equal(1, await harness.Proxy.MetricAsync("harmony_proxy_tool_calls_dropped_total"));
    }

    [Fact]
    public async Task Responses_ABuiltInPythonCall_IsAFunctionCallItemForTheClientsPython()
    {
        await using var harness = await LoopbackHarness.StartAsync(SimFlavour.Raw);
        harness.Simulator.Enqueue(new SimScript { RawText = BuiltInPythonCall });
        var client = new ResponsesClient(new ApiKeyCredential("sk-local"), new ResponsesClientOptions { Endpoint = new Uri(harness.Proxy.ServerAddress, "/v1") });
        var options = new CreateResponseOptions("gpt-oss-20b", [ResponseItem.CreateUserMessageItem("What is 6*7? Use python.")])
        {
            Tools = { ResponseTool.CreateFunctionTool("python", BinaryData.FromString(PythonSchema), strictModeEnabled: false, "Runs Python") },
        };

        ResponseResult response = await client.CreateResponseAsync(options);

        var call = Assert.IsType<FunctionCallResponseItem>(response.OutputItems.Last());
        Assert.Equal("python", call.FunctionName);
        Assert.Equal("""{"code":"print(6*7)"}""", call.FunctionArguments.ToString());
    }

    [Fact]
    public async Task SeveralSystemMessages_ReachLlamaServer_AsTheOneItRenders()
    {
        await using var harness = await LoopbackHarness.StartAsync(SimFlavour.Raw);
        const string Messages = """
            [{"role":"system","content":"You are opencode."},
             {"role":"system","content":"Project rules: tabs."},
             {"role":"user","content":"hi"},
             {"role":"developer","content":"Be brief."}]
            """;

        using var response = await harness.Http.PostAsync("/v1/chat/completions", ChatRequest.Body(stream: false, Messages));

        response.EnsureSuccessStatusCode();
        var sent = harness.Simulator.Requests.Single()["messages"]!.AsArray();
        Assert.Equal(["system", "user"], sent.Select(message => message!["role"]!.GetValue<string>()));
        Assert.Equal("You are opencode.\n\nProject rules: tabs.\n\nBe brief.", sent[0]!["content"]!.GetValue<string>());
    }
}
