using System.Net.ServerSentEvents;
using System.Text;
using System.Text.Json.Nodes;
using HarmonyProxy.Tests.Infrastructure;
using LlamaServerSim;
using OpenAI.Chat;

namespace HarmonyProxy.Tests.EndToEnd;

/// <summary>
/// The real proxy on Kestrel (loopback) in front of the llama-server simulator, driven by the
/// official OpenAI .NET SDK.
/// </summary>
public sealed class EndToEndTests
{
    public static TheoryData<SimFlavour> Flavours => [SimFlavour.Raw, SimFlavour.Stripped, SimFlavour.Parsed];

    [Theory]
    [MemberData(nameof(Flavours))]
    public async Task PlainAnswer_Streaming_SdkReceivesCleanContent(SimFlavour flavour)
    {
        await using var harness = await LoopbackHarness.StartAsync(flavour);

        var content = new StringBuilder();
        ChatFinishReason? finish = null;
        await foreach (var update in harness.Chat.CompleteChatStreamingAsync([new UserChatMessage("hi")]))
        {
            content.Append(string.Concat(update.ContentUpdate.Select(part => part.Text)));
            finish ??= update.FinishReason;
        }

        Assert.Equal("Hello! I am a simulated gpt-oss behind llama-server. How can I help you today?", content.ToString());
        Assert.Equal(ChatFinishReason.Stop, finish);
    }

    [Theory]
    [MemberData(nameof(Flavours))]
    public async Task ReasoningAndAnswer_NonStreaming_SeparatesReasoning(SimFlavour flavour)
    {
        await using var harness = await LoopbackHarness.StartAsync(flavour);

        ChatCompletion completion = await harness.Chat.CompleteChatAsync([new UserChatMessage("hi")]);
        using var http = new HttpClient { BaseAddress = harness.Proxy.ServerAddress };
        using var raw = await http.PostAsync("/v1/chat/completions", new StringContent("""{"messages":[{"role":"user","content":"hi"}]}""", Encoding.UTF8, "application/json"));
        var message = JsonNode.Parse(await raw.Content.ReadAsStringAsync())!["choices"]![0]!["message"]!;

        Assert.Equal("Hello! I am a simulated gpt-oss behind llama-server. How can I help you today?", completion.Content[0].Text);
        Assert.Equal(ChatFinishReason.Stop, completion.FinishReason);
        Assert.Equal("The user greets us. We should answer briefly and offer help.", message["reasoning_content"]!.GetValue<string>());
        Assert.DoesNotContain("<|", message["content"]!.GetValue<string>(), StringComparison.Ordinal);
    }

    [Theory]
    [MemberData(nameof(Flavours))]
    public async Task ToolCallRoundTrip_CallThenToolResultThenAnswer(SimFlavour flavour)
    {
        await using var harness = await LoopbackHarness.StartAsync(flavour);
        var readFile = ChatTool.CreateFunctionTool("read_file", "Read a file", BinaryData.FromString("""{"type":"object","properties":{"path":{"type":"string"}},"required":["path"]}"""));
        var options = new ChatCompletionOptions { Tools = { readFile } };
        List<ChatMessage> history = [new UserChatMessage("What does README.md say?")];

        // 1. The model calls the tool: streamed as native tool_calls.
        var id = string.Empty;
        var name = string.Empty;
        var arguments = new StringBuilder();
        ChatFinishReason? finish = null;
        await foreach (var update in harness.Chat.CompleteChatStreamingAsync(history, options))
        {
            foreach (var call in update.ToolCallUpdates)
            {
                id = call.ToolCallId ?? id;
                name = call.FunctionName ?? name;
                arguments.Append(call.FunctionArgumentsUpdate?.ToString());
            }

            finish ??= update.FinishReason;
        }

        Assert.Equal(ChatFinishReason.ToolCalls, finish);
        Assert.Equal("read_file", name);
        Assert.Equal("""{"path":"README.md"}""", arguments.ToString());
        Assert.StartsWith("call_", id, StringComparison.Ordinal);

        // 2. The tool result goes back in the history; the model answers.
        history.Add(new AssistantChatMessage([ChatToolCall.CreateFunctionToolCall(id, name, BinaryData.FromString(arguments.ToString()))]));
        history.Add(new ToolChatMessage(id, "HarmonyProxy cleans gpt-oss output."));
        ChatCompletion answer = await harness.Chat.CompleteChatAsync(history, options);

        Assert.Equal("The tool said: HarmonyProxy cleans gpt-oss output.", answer.Content[0].Text);
        Assert.Equal(ChatFinishReason.Stop, answer.FinishReason);
        var secondRequest = harness.Simulator.Requests.Last();
        Assert.Equal("tool", secondRequest["messages"]!.AsArray().Last()!["role"]!.GetValue<string>());
    }

    [Fact]
    public async Task Usage_WithIncludeUsage_ArrivesInTheLastChunk()
    {
        await using var harness = await LoopbackHarness.StartAsync(SimFlavour.Raw);

        ChatTokenUsage? usage = null;
        await foreach (var update in harness.Chat.CompleteChatStreamingAsync([new UserChatMessage("hi")]))
        {
            usage ??= update.Usage;
        }

        Assert.NotNull(usage);
        Assert.True(usage.OutputTokenCount > 0);
        Assert.Equal(usage.InputTokenCount + usage.OutputTokenCount, usage.TotalTokenCount);
        Assert.True(harness.Simulator.Requests.Single()["stream_options"]!["include_usage"]!.GetValue<bool>());
    }

    [Fact]
    public async Task FinalText_LeavesTheProxyBeforeTheNextTokenIsSent()
    {
        // Arrange: the simulator sends token i only when the test releases it.
        const string Raw = "<|channel|>analysis<|message|>Think.<|end|><|start|>assistant<|channel|>final<|message|>One two three four five";
        var tokens = Transcripts.Tokenize(Raw).ToList();
        using var release = new SemaphoreSlim(0);
        var sent = 0;
        await using var harness = await LoopbackHarness.StartAsync(SimFlavour.Raw);
        harness.Simulator.Enqueue(new SimScript
        {
            RawText = Raw,
            Gate = (_, cancellation) => release.WaitAsync(cancellation),
            OnTokenSent = index => Volatile.Write(ref sent, index + 1),
        });

        using var http = new HttpClient { BaseAddress = harness.Proxy.ServerAddress };
        using var request = new HttpRequestMessage(HttpMethod.Post, "/v1/chat/completions")
        {
            Content = new StringContent("""{"stream":true,"messages":[{"role":"user","content":"count"}]}""", Encoding.UTF8, "application/json"),
        };
        var responseTask = http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead);
        release.Release();
        using var response = await responseTask;
        await using var body = await response.Content.ReadAsStreamAsync();
        await using var events = SseParser.Create(body).EnumerateAsync().GetAsyncEnumerator();

        // Act + Assert: after releasing each answer token, its text reaches the client while
        // the simulator has still sent nothing after it.
        var finalStart = tokens.IndexOf("<|message|>", tokens.IndexOf("final")) + 1;
        for (var i = 1; i < tokens.Count; i++)
        {
            release.Release();
            if (i < finalStart)
            {
                continue;
            }

            var expected = tokens[i];
            var received = new StringBuilder();
            while (received.ToString() != expected)
            {
                Assert.True(await events.MoveNextAsync());
                var chunk = JsonNode.Parse(events.Current.Data)!;
                received.Append(chunk["choices"]?[0]?["delta"]?["content"]?.GetValue<string>());
            }

            Assert.Equal(i + 1, Volatile.Read(ref sent));
        }
    }

}
