using System.ClientModel;
using LlamaServerSim;
using OpenAI;
using OpenAI.Chat;

namespace HarmonyProxy.Tests.Infrastructure;

/// <summary>The real proxy on loopback Kestrel in front of a fresh llama-server simulator.</summary>
internal sealed class LoopbackHarness : IAsyncDisposable
{
    private LoopbackHarness(LlamaServerSimulator simulator, HarmonyProxyApplication proxy)
    {
        Simulator = simulator;
        Proxy = proxy;
        Chat = new ChatClient("gpt-oss-20b", new ApiKeyCredential("sk-local"), new OpenAIClientOptions { Endpoint = new Uri(proxy.ServerAddress, "/v1") });
        Http = new HttpClient { BaseAddress = proxy.ServerAddress };
    }

    public LlamaServerSimulator Simulator { get; }

    public HarmonyProxyApplication Proxy { get; }

    public ChatClient Chat { get; }

    public HttpClient Http { get; }

    public static async Task<LoopbackHarness> StartAsync(SimFlavour flavour = SimFlavour.Raw, Dictionary<string, string?>? settings = null)
    {
        var simulator = await LlamaServerSimulator.StartAsync(new SimulatorOptions { Flavour = flavour });
        return new LoopbackHarness(simulator, new HarmonyProxyApplication(settings, realUpstream: simulator.BaseAddress));
    }

    public async ValueTask DisposeAsync()
    {
        Http.Dispose();
        await Proxy.DisposeAsync();
        await Simulator.DisposeAsync();
    }
}
