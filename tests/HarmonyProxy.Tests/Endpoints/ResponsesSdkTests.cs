using System.ClientModel;
using System.ClientModel.Primitives;
using HarmonyProxy.Tests.Infrastructure;
using LlamaServerSim;
using OpenAI.Responses;

#pragma warning disable OPENAI001 // The SDK marks its Responses client experimental.

namespace HarmonyProxy.Tests.Endpoints;

/// <summary>The official OpenAI .NET SDK's Responses client against the proxy and the simulator, streaming and not.</summary>
public sealed class ResponsesSdkTests
{
    public static TheoryData<SimFlavour> Flavours => [SimFlavour.Raw, SimFlavour.Stripped, SimFlavour.Parsed];

    [Theory]
    [MemberData(nameof(Flavours))]
    public async Task NonStreaming_AnswerAndReasoningAsItems(SimFlavour flavour)
    {
        await using var harness = await LoopbackHarness.StartAsync(flavour);
        var client = Client(harness);

        ResponseResult response = await client.CreateResponseAsync(Hello());

        Assert.Equal(ResponseStatus.Completed, response.Status);
        Assert.StartsWith("resp_", response.Id, StringComparison.Ordinal);
        Assert.Equal("Hello! I am a simulated gpt-oss behind llama-server. How can I help you today?", response.GetOutputText());
        var reasoning = Assert.IsType<ReasoningResponseItem>(response.OutputItems[0]);
        Assert.Equal("The user greets us. We should answer briefly and offer help.", ReasoningText(reasoning));
        Assert.Equal(MessageRole.Assistant, Assert.IsAssignableFrom<MessageResponseItem>(response.OutputItems[1]).Role);
        Assert.True(response.Usage.OutputTokenCount > 0);
    }

    [Theory]
    [MemberData(nameof(Flavours))]
    public async Task Streaming_DeltasThenCompleted(SimFlavour flavour)
    {
        await using var harness = await LoopbackHarness.StartAsync(flavour);
        var client = Client(harness);
        var text = new System.Text.StringBuilder();
        var sequence = new List<int>();
        ResponseResult? completed = null;

        await foreach (var update in await client.CreateResponseStreamingAsync(Hello(streaming: true)))
        {
            sequence.Add(update.SequenceNumber);
            switch (update)
            {
                case StreamingResponseOutputTextDeltaUpdate delta:
                    text.Append(delta.Delta);
                    break;
                case StreamingResponseCompletedUpdate done:
                    completed = done.Response;
                    break;
            }
        }

        Assert.Equal("Hello! I am a simulated gpt-oss behind llama-server. How can I help you today?", text.ToString());
        Assert.NotNull(completed);
        Assert.Equal(text.ToString(), completed.GetOutputText());
        Assert.Equal(Enumerable.Range(0, sequence.Count), sequence);
    }

    [Fact]
    public async Task FunctionCall_ThenOutput_ThenAnswer()
    {
        await using var harness = await LoopbackHarness.StartAsync(SimFlavour.Parsed);
        var client = Client(harness);
        var options = new CreateResponseOptions("gpt-oss-20b", [ResponseItem.CreateUserMessageItem("What does README.md say?")])
        {
            Tools = { ResponseTool.CreateFunctionTool("read_file", BinaryData.FromString("""{"type":"object","properties":{"path":{"type":"string"}},"required":["path"]}"""), strictModeEnabled: false, "Read a file") },
        };

        ResponseResult first = await client.CreateResponseAsync(options);
        var call = Assert.IsType<FunctionCallResponseItem>(first.OutputItems.Last());
        Assert.Equal("read_file", call.FunctionName);
        Assert.Equal("""{"path":"README.md"}""", call.FunctionArguments.ToString());

        foreach (var item in first.OutputItems)
        {
            options.InputItems.Add(item);
        }

        options.InputItems.Add(ResponseItem.CreateFunctionCallOutputItem(call.CallId, "HarmonyProxy cleans gpt-oss output."));
        ResponseResult second = await client.CreateResponseAsync(options);

        Assert.Equal("The tool said: HarmonyProxy cleans gpt-oss output.", second.GetOutputText());
        var upstream = harness.Simulator.Requests.Last()["messages"]!.AsArray();
        Assert.Equal("tool", upstream[^1]!["role"]!.GetValue<string>());
        Assert.Equal("The user wants information from the project. We should call read_file first.", upstream[^2]!["reasoning_content"]!.GetValue<string>());
    }

    private static ResponsesClient Client(LoopbackHarness harness) =>
        new(new ApiKeyCredential("sk-local"), new ResponsesClientOptions { Endpoint = new Uri(harness.Proxy.ServerAddress, "/v1") });

    private static CreateResponseOptions Hello(bool streaming = false) => new("gpt-oss-20b", [ResponseItem.CreateUserMessageItem("Hello!")]) { StreamingEnabled = streaming };

    /// <summary>The item's <c>reasoning_text</c> as the SDK read it (it has no typed accessor for raw reasoning).</summary>
    private static string ReasoningText(ReasoningResponseItem item) =>
        System.Text.Json.Nodes.JsonNode.Parse(ModelReaderWriter.Write(item).ToString())!["content"]![0]!["text"]!.GetValue<string>();
}
