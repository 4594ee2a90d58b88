using System.Text.Json.Nodes;
using HarmonyProxy.Setup;
using HarmonyProxy.Tests.Infrastructure;
using Tomlyn;
using Tomlyn.Model;
using YamlDotNet.RepresentationModel;

namespace HarmonyProxy.Tests.Setup;

/// <summary>
/// <c>HarmonyProxy setup &lt;client&gt;</c>: each client's file, read back with a parser of the
/// format the client reads (TOML, JSON, YAML, dotenv), under a home of the test's own; what was
/// there is kept (JSON merged, and a backup of any file replaced).
/// </summary>
public sealed class ClientSetupTests : IDisposable
{
    private readonly string _home = Directory.CreateTempSubdirectory("harmony-setup-").FullName;

    public void Dispose() => Directory.Delete(_home, recursive: true);

    [Fact]
    public async Task Codex_TheProviderSpeaksResponses()
    {
        var (code, _) = await SetupAsync("codex", "--key", "sk-team");

        var toml = TomlSerializer.Deserialize<TomlTable>(Read(".codex", "config.toml"))!;
        var provider = (TomlTable)((TomlTable)toml["model_providers"])["harmony-proxy"];
        Assert.Equal(0, code);
        Assert.Equal("gpt-oss-20b", toml["model"]);
        Assert.Equal("harmony-proxy", toml["model_provider"]);
        Assert.Equal("http://127.0.0.1:8081/v1", provider["base_url"]);
        Assert.Equal("responses", provider["wire_api"]);
        Assert.Equal("HARMONY_PROXY_API_KEY", provider["env_key"]);
    }

    [Fact]
    public async Task Claude_TheEnvironmentIsMergedIntoItsSettings_AndTheOldFileKept()
    {
        Write("""{"theme":"dark","env":{"FOO":"1"}}""", ".claude", "settings.json");

        var (code, output) = await SetupAsync("claude");

        var settings = JsonNode.Parse(Read(".claude", "settings.json"))!;
        Assert.Equal(0, code);
        Assert.Equal("dark", settings["theme"]!.GetValue<string>());
        Assert.Equal("1", settings["env"]!["FOO"]!.GetValue<string>());
        Assert.Equal("http://127.0.0.1:8081", settings["env"]!["ANTHROPIC_BASE_URL"]!.GetValue<string>());
        Assert.Equal("gpt-oss-20b", settings["env"]!["ANTHROPIC_MODEL"]!.GetValue<string>());
        Assert.Equal("1", settings["env"]!["CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC"]!.GetValue<string>());
        var backup = Assert.Single(Directory.GetFiles(Path.Combine(_home, ".claude"), "settings.json.bak-*"));
        Assert.Equal("""{"theme":"dark","env":{"FOO":"1"}}""", File.ReadAllText(backup));
        Assert.Contains("the previous one is", output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task OpenCode_ACustomProvider_AndItsModel()
    {
        await SetupAsync("opencode");

        var config = JsonNode.Parse(Read(".config", "opencode", "opencode.json"))!;
        var provider = config["provider"]!["harmony-proxy"]!;
        Assert.Equal("@ai-sdk/openai-compatible", provider["npm"]!.GetValue<string>());
        Assert.Equal("http://127.0.0.1:8081/v1", provider["options"]!["baseURL"]!.GetValue<string>());
        Assert.NotNull(provider["models"]!["gpt-oss-20b"]);
        Assert.Equal("harmony-proxy/gpt-oss-20b", config["model"]!.GetValue<string>());
    }

    [Fact]
    public async Task Continue_AnOpenAiModel_WithToolUse()
    {
        await SetupAsync("continue");

        var yaml = new YamlStream();
        yaml.Load(new StringReader(Read(".continue", "config.yaml")));
        var model = (YamlMappingNode)((YamlSequenceNode)((YamlMappingNode)yaml.Documents[0].RootNode)["models"])[0];
        Assert.Equal("openai", model["provider"].ToString());
        Assert.Equal("gpt-oss-20b", model["model"].ToString());
        Assert.Equal("http://127.0.0.1:8081/v1", model["apiBase"].ToString());
        Assert.Contains("tool_use", ((YamlSequenceNode)model["capabilities"]).Select(node => node.ToString()));
    }

    [Fact]
    public async Task Kilo_ASettingsFileItsImportReads()
    {
        await SetupAsync("kilo");

        var profile = JsonNode.Parse(Read("harmony-proxy-kilo-settings.json"))!["providerProfiles"]!;
        Assert.Equal("harmony-proxy", profile["currentApiConfigName"]!.GetValue<string>());
        Assert.Equal("openai", profile["apiConfigs"]!["harmony-proxy"]!["apiProvider"]!.GetValue<string>());
        Assert.Equal("http://127.0.0.1:8081/v1", profile["apiConfigs"]!["harmony-proxy"]!["openAiBaseUrl"]!.GetValue<string>());
    }

    [Fact]
    public async Task Qwen_ItsEnvironmentFile_KeepsOtherLines()
    {
        Write("OTHER=1\nOPENAI_MODEL=old\n", ".qwen", ".env");

        await SetupAsync("qwen");

        var env = Read(".qwen", ".env").Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(line => line.Split('=', 2)).ToDictionary(pair => pair[0], pair => pair[1]);
        Assert.Equal("1", env["OTHER"]);
        Assert.Equal("gpt-oss-20b", env["OPENAI_MODEL"]);
        Assert.Equal("http://127.0.0.1:8081/v1", env["OPENAI_BASE_URL"]);
        Assert.Equal("openai", JsonNode.Parse(Read(".qwen", "settings.json"))!["security"]!["auth"]!["selectedType"]!.GetValue<string>());
    }

    [Fact]
    public async Task Cline_WhatToEnter_NoFile()
    {
        var (code, output) = await SetupAsync("cline");

        Assert.Equal(0, code);
        Assert.Contains("OpenAI Compatible", output, StringComparison.Ordinal);
        Assert.Contains("http://127.0.0.1:8081/v1", output, StringComparison.Ordinal);
        Assert.Empty(Directory.EnumerateFileSystemEntries(_home));
    }

    [Fact]
    public async Task Print_WritesNothing()
    {
        var (code, output) = await SetupAsync("opencode", "--print");

        Assert.Equal(0, code);
        Assert.Contains("\"baseURL\": \"http://127.0.0.1:8081/v1\"", output, StringComparison.Ordinal);
        Assert.Empty(Directory.EnumerateFileSystemEntries(_home));
    }

    [Fact]
    public async Task TheModel_IsTheProxysFirst()
    {
        await using var harness = await LoopbackHarness.StartAsync();
        using var output = new StringWriter();

        var code = await ClientSetupCommand.RunAsync(["setup", "continue", "--url", harness.Proxy.ServerAddress.ToString(), "--home", _home], output, TextWriter.Null);

        Assert.Equal(0, code);
        Assert.Contains("model: \"gpt-oss-20b\"", Read(".continue", "config.yaml"), StringComparison.Ordinal);
    }

    [Fact]
    public async Task NoProxyToAsk_AndNoModelNamed_SaysSo()
    {
        using var error = new StringWriter();

        var code = await ClientSetupCommand.RunAsync(["setup", "codex", "--url", "http://127.0.0.1:1", "--home", _home], TextWriter.Null, error);

        Assert.Equal(1, code);
        Assert.Contains("--model", error.ToString(), StringComparison.Ordinal);
        Assert.Empty(Directory.EnumerateFileSystemEntries(_home));
    }

    [Theory]
    [InlineData("setup")]
    [InlineData("setup", "vim")]
    [InlineData("setup", "codex", "--colour")]
    public async Task BadArguments_SayHowToUseIt(params string[] args)
    {
        using var error = new StringWriter();

        Assert.Equal(2, await ClientSetupCommand.RunAsync(args, TextWriter.Null, error));
        Assert.StartsWith("usage: HarmonyProxy setup", error.ToString(), StringComparison.Ordinal);
    }

    private async Task<(int Code, string Output)> SetupAsync(string client, params string[] more)
    {
        using var output = new StringWriter();
        var code = await ClientSetupCommand.RunAsync(["setup", client, "--model", "gpt-oss-20b", "--home", _home, .. more], output, TextWriter.Null);
        return (code, output.ToString());
    }

    private string Read(params string[] path) => File.ReadAllText(Path.Combine([_home, .. path]));

    private void Write(string text, params string[] path)
    {
        var file = Path.Combine([_home, .. path]);
        Directory.CreateDirectory(Path.GetDirectoryName(file)!);
        File.WriteAllText(file, text);
    }
}
