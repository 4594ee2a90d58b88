using System.Globalization;

namespace LlamaServerSim;

/// <summary>
/// A stand-alone llama-server look-alike:
/// <c>dotnet run --project tools/LlamaServerSim -- --urls http://127.0.0.1:8080 --flavour raw --tokens-per-second 20 --context-size 65536 --total-slots 4 --prompt-cache true --prompt-tokens-per-second 5000</c>
/// </summary>
internal static class SimulatorProgram
{
    public static async Task Main(string[] args)
    {
        var configuration = new ConfigurationBuilder().AddCommandLine(args).AddEnvironmentVariables("SIM_").Build();
        var options = new SimulatorOptions
        {
            Flavour = Enum.TryParse<SimFlavour>(configuration["flavour"], ignoreCase: true, out var flavour) ? flavour : SimFlavour.Raw,
            TokensPerSecond = double.TryParse(configuration["tokens-per-second"], CultureInfo.InvariantCulture, out var rate) ? rate : 20,
            Model = configuration["model"] ?? "gpt-oss-20b",
            FaultRate = double.TryParse(configuration["fault-rate"], CultureInfo.InvariantCulture, out var faults) ? faults : 0,
            ContextSize = int.TryParse(configuration["context-size"], CultureInfo.InvariantCulture, out var context) ? context : new SimulatorOptions().ContextSize,
            TotalSlots = int.TryParse(configuration["total-slots"], CultureInfo.InvariantCulture, out var slots) ? slots : new SimulatorOptions().TotalSlots,
            PromptCache = bool.TryParse(configuration["prompt-cache"], out var cache) && cache,
            PromptTokensPerSecond = double.TryParse(configuration["prompt-tokens-per-second"], CultureInfo.InvariantCulture, out var promptRate) ? promptRate : 0,
        };

        await using var simulator = await LlamaServerSimulator.StartAsync(options, configuration["urls"] ?? "http://127.0.0.1:8080");
        Console.WriteLine($"llama-server simulator ({options.Flavour}, {options.TokensPerSecond} tokens/s) listening on {simulator.BaseAddress}");
        await simulator.WaitForShutdownAsync();
    }
}
