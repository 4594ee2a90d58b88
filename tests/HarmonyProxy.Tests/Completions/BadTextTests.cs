using System.Net;
using System.Text;
using System.Text.Json.Nodes;
using HarmonyProxy.Completions;
using HarmonyProxy.Tests.Infrastructure;
using HarmonyProxy.Wire;
using LlamaServerSim;

namespace HarmonyProxy.Tests.Completions;

/// <summary>Bad text never cuts a stream: lone surrogates and invalid UTF-8 from upstream become U+FFFD; bad text in a request is a 400.</summary>
public sealed class BadTextTests
{
    [Theory]
    [InlineData("plain", "plain")]
    [InlineData("a\\ud800b", "a\uFFFDb")]
    [InlineData("a\\udc00b", "a\uFFFDb")]
    [InlineData("end\\ud83d", "end\uFFFD")]
    [InlineData("pair\\ud83d\\ude00!", "pair😀!")]
    [InlineData("high\\ud83d\\u0041", "high\uFFFDA")]
    [InlineData("esc \\\" \\\\ \\/ \\n \\t \\u00e9", "esc \" \\ / \n \t é")]
    [InlineData("cut \\u12", "cut \uFFFD12")]
    [InlineData("trailing \\", "trailing \uFFFD")]
    public void LenientJsonString_ReplacesWhatCannotBeRead(string escaped, string expected)
    {
        Assert.Equal(expected, LenientJsonString.Decode(Encoding.UTF8.GetBytes(escaped)));
    }

    [Fact]
    public void LenientJsonString_InvalidUtf8_BecomesReplacementCharacters()
    {
        Assert.Equal("c\uFFFDd\uFFFD", LenientJsonString.Decode([(byte)'c', 0xFF, (byte)'d', 0xE2, 0x82]));
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task UpstreamBadText_StreamAndJsonStillEndWell(bool stream)
    {
        await using var harness = await LoopbackHarness.StartAsync();
        harness.Simulator.Enqueue(new SimScript { RawBody = BadUpstreamBody() });

        using var response = await harness.Http.PostAsync("/v1/chat/completions", ChatRequest.Body(stream));
        var text = await response.Content.ReadAsStringAsync();

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        if (stream)
        {
            var parsed = ClientStream.Parse(text);
            Assert.Equal("Hi a\uFFFDb c\uFFFDd!", parsed.Content);
            Assert.Equal("stop", parsed.FinishReason);
            Assert.True(parsed.EndedWithDone);
        }
        else
        {
            Assert.Equal("Hi a\uFFFDb c\uFFFDd!", JsonNode.Parse(text)!["choices"]![0]!["message"]!["content"]!.GetValue<string>());
        }
    }

    [Fact]
    public void UpstreamToolArgumentsWithBadText_BecomeReplacementCharacters()
    {
        // Arguments split over two deltas, one with a lone surrogate escape, one with invalid UTF-8.
        var invalid = Encoding.UTF8.GetBytes(LlamaChunks.ToolCallArguments("cXd\"}"));
        invalid[Array.IndexOf(invalid, (byte)'X')] = 0xFF;
        string[] events =
        [
            LlamaChunks.Role(),
            LlamaChunks.ToolCallStart("read_file", "{\"path\": \"aYb").Replace("Y", "\\ud800", StringComparison.Ordinal),
            Encoding.UTF8.GetString(invalid),
            LlamaChunks.Finish("tool_calls"),
            LlamaChunks.Done,
        ];

        var (stream, _) = TranslatorHarness.Run(events);

        Assert.Equal([("read_file", "{\"path\": \"a\uFFFDbc\uFFFDd\"}")], stream.ToolCalls.Select(call => (call.Name, call.Arguments)));
        Assert.Equal("tool_calls", stream.FinishReason);
    }

    [Fact]
    public void UpstreamErrorWithBadText_IsStillAnError()
    {
        var buffer = new System.Buffers.ArrayBufferWriter<byte>();
        using var writer = new SseChunkWriter(buffer);
        var translator = new CompletionTranslator(writer, OutputOptions.Default, passUsage: false);

        var kind = translator.ProcessEvent("""{"error":{"code":"busy\ud800","message":"Failed \udc00","type":"server_error"}}"""u8);

        Assert.Equal(UpstreamEventKind.Error, kind);
        Assert.Equal(new UpstreamStreamError("Failed \uFFFD", "server_error", "busy\uFFFD"), translator.UpstreamError);
    }

    [Fact]
    public void UpstreamErrorBodyAndPropsWithBadText_AreStillRead()
    {
        Assert.Equal(
            new LlamaServerError("Failed a\uFFFDb", "server_error"),
            LlamaServerError.Parse("""{"error":{"code":500,"message":"Failed a\ud800b","type":"server_error"}}"""u8));
        Assert.Equal(new LlamaServerError("busy \uFFFD", null), LlamaServerError.Parse("""{"error":"busy \udc00"}"""u8));

        var props = LlamaServerProps.Parse("""{"build_info":"b1\ud800","model_alias":"gpt-oss","total_slots":4,"chat_template":"<|channel|>\udc00"}"""u8.ToArray());

        Assert.NotNull(props);
        Assert.Equal("b1\uFFFD", props.Build);
        Assert.Equal(4, props.TotalSlots);
        Assert.True(props.TemplateIsGptOss);
    }

    public static TheoryData<string> RequestsWithLoneSurrogates => new()
    {
        """{"messages":[{"role":"user","content":"a\ud800b"}]}""",
        """{"messages":[{"role":"user","content":[{"type":"text","text":"\udc00"}]}]}""",
        """{"messages":[{"role":"user\ud800","content":"hi"}]}""",
        """{"messages":[{"role":"user","content":"hi"}],"model":"gpt\ud800"}""",
        """{"messages":[{"role":"user","content":"hi"}],"user":"\ud800"}""",
        """{"messages":[{"role":"user","content":"hi"}],"metadata":{"k\ud800":"v"}}""",
        """{"messages":[{"role":"user","content":"hi"}],"stop":["\ud800"]}""",
        """{"messages":[{"role":"user","content":"hi"}],"tools":[{"type":"function","function":{"name":"f\ud800"}}]}""",
        """{"messages":[{"role":"user","content":"hi"}],"reasoning_effort":"\ud800"}""",
        """{"messages":[{"role":"assistant","content":"<|channel|>final<|message|>\ud800"},{"role":"user","content":"hi"}]}""",
        """{"mess\ud800ages":[]}""",
    };

    [Theory]
    [MemberData(nameof(RequestsWithLoneSurrogates))]
    public async Task RequestWithALoneSurrogate_Is400OrServed_Never500(string body)
    {
        await using var harness = await LoopbackHarness.StartAsync();

        using var response = await harness.Http.PostAsync("/v1/chat/completions", new StringContent(body, Encoding.UTF8, "application/json"));

        Assert.True(response.StatusCode is HttpStatusCode.OK or HttpStatusCode.BadRequest, $"{(int)response.StatusCode}: {await response.Content.ReadAsStringAsync()} {harness.Proxy.LogEvents.Events.FirstOrDefault(e => e.Exception is not null)?.Exception}");
        if (response.StatusCode == HttpStatusCode.BadRequest)
        {
            Assert.NotNull(JsonNode.Parse(await response.Content.ReadAsStringAsync())!["error"]!["message"]);
        }
    }

    /// <summary>A raw-flavour stream whose second and third deltas hold a lone surrogate escape and an invalid UTF-8 byte.</summary>
    private static byte[] BadUpstreamBody()
    {
        var body = new List<byte>();
        void Event(byte[] data)
        {
            body.AddRange("data: "u8.ToArray());
            body.AddRange(data);
            body.AddRange("\n\n"u8.ToArray());
        }

        Event(Encoding.UTF8.GetBytes(LlamaChunks.Role()));
        Event(Encoding.UTF8.GetBytes(LlamaChunks.Content("<|channel|>final<|message|>Hi ")));
        Event(Encoding.UTF8.GetBytes("""{"choices":[{"finish_reason":null,"index":0,"delta":{"content":"a\ud800b "}}],"object":"chat.completion.chunk"}"""));
        var invalid = Encoding.UTF8.GetBytes("""{"choices":[{"finish_reason":null,"index":0,"delta":{"content":"cXd!"}}],"object":"chat.completion.chunk"}""");
        invalid[Array.IndexOf(invalid, (byte)'X')] = 0xFF;
        Event(invalid);
        Event(Encoding.UTF8.GetBytes(LlamaChunks.Finish("stop")));
        Event("[DONE]"u8.ToArray());
        return [.. body];
    }
}
