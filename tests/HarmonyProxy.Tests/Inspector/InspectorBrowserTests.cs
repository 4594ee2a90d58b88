using System.Diagnostics;
using HarmonyProxy.Tests.Infrastructure;
using LlamaServerSim;
using Microsoft.Playwright;

namespace HarmonyProxy.Tests.Inspector;

/// <summary>
/// The inspector in a real browser: Playwright drives Debian's chromium (installed by
/// <c>scripts/ensure-chromium.sh</c> when missing; no browser is downloaded) against the proxy and
/// the simulator over loopback. A streamed tool call appears in the list within seconds, its
/// detail shows llama-server's raw Harmony and the native call, a recovered request shows its
/// recovery, nothing secret is on the page, and the page logs no error. The screenshot in
/// <c>docs/</c> is this test's (<c>UPDATE_SCREENSHOT=1</c> writes it again).
/// </summary>
public sealed class InspectorBrowserTests
{
    private const string Chromium = "/usr/bin/chromium";
    private const string Secret = "sk-browser-secret-4242";
    private const float Bound = 10_000;

    [Fact]
    public async Task TheInspector_ShowsRequests_TheirHarmony_ToolCalls_AndRecoveries()
    {
        await EnsureChromiumAsync();
        await using var harness = await LoopbackHarness.StartAsync(SimFlavour.Raw, new() { ["HarmonyProxy:Upstream:ApiKey"] = Secret });
        harness.Simulator.Enqueue(new SimScript { Flavour = SimFlavour.Parsed, ErrorMessage = LlamaServerSimulator.ParseFailureMessage, ErrorAfterTokens = 4 });
        await (await harness.Http.PostAsync("/v1/chat/completions", ChatRequest.Body(stream: true))).Content.ReadAsStringAsync();

        using var playwright = await Playwright.CreateAsync();
        await using var browser = await playwright.Chromium.LaunchAsync(new BrowserTypeLaunchOptions
        {
            ExecutablePath = Chromium,
            Headless = true,
            Args = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync"],
        });
        var page = await browser.NewPageAsync(new BrowserNewPageOptions { ViewportSize = new ViewportSize { Width = 1600, Height = 1000 } });
        var problems = new List<string>();
        page.Console += (_, message) =>
        {
            if (message.Type is "error" or "warning")
            {
                problems.Add($"{message.Type}: {message.Text}");
            }
        };
        page.PageError += (_, error) => problems.Add("page error: " + error);

        await page.GotoAsync(new Uri(harness.Proxy.ServerAddress, "/ui").ToString());
        var rows = page.Locator("#requests tbody tr");
        await rows.Nth(0).WaitForAsync(new LocatorWaitForOptions { Timeout = Bound });

        // Sent while the page is open: the live list shows it within seconds.
        await (await harness.Http.PostAsync("/v1/chat/completions", ChatRequest.Body(
            stream: true,
            $$"""[{"role":"user","content":"Read the README. My key is {{Secret}}."}]""",
            ""","tools":[{"type":"function","function":{"name":"read_file","parameters":{"type":"object","properties":{"path":{"type":"string"}}}}}]"""))).Content.ReadAsStringAsync();
        await rows.Nth(1).WaitForAsync(new LocatorWaitForOptions { Timeout = Bound });

        // The newest (first): the streamed tool call, its raw Harmony and the native call the client got.
        await rows.Nth(0).ClickAsync();
        await page.Locator(".tool-call h4").WaitForAsync(new LocatorWaitForOptions { Timeout = Bound });
        var toolCall = await page.Locator(".tool-call h4").InnerTextAsync();
        var raw = await page.Locator("#raw-text").InnerTextAsync();
        var tags = await page.Locator("#raw-text .tag").CountAsync();
        var screenshot = await page.ScreenshotAsync(new PageScreenshotOptions { FullPage = false });

        // The older one: llama-server broke it after the reasoning, the proxy continued it.
        await rows.Nth(1).ClickAsync();
        await page.Locator("#facts dd", new PageLocatorOptions { HasText = "continuation" }).WaitForAsync(new LocatorWaitForOptions { Timeout = Bound });
        var attempts = await page.Locator("#attempts tbody tr").CountAsync();
        var content = await page.ContentAsync() + await page.Locator("body").InnerTextAsync();

        Assert.Equal("Tool call: read_file", toolCall);
        Assert.Contains("<|channel|>", raw, StringComparison.Ordinal);
        Assert.True(tags > 0, "Harmony tags are marked");
        Assert.Equal(2, attempts);
        Assert.DoesNotContain(Secret, content, StringComparison.Ordinal);
        Assert.Empty(problems);
        Assert.True(screenshot.Length > 10_000 && screenshot.AsSpan(1, 3).SequenceEqual("PNG"u8), "a PNG screenshot");
        if (Environment.GetEnvironmentVariable("UPDATE_SCREENSHOT") == "1")
        {
            await File.WriteAllBytesAsync(Path.Combine(Repository.Root, "docs", "inspector.png"), screenshot);
        }
    }

    private static async Task EnsureChromiumAsync()
    {
        if (File.Exists(Chromium))
        {
            return;
        }

        using var install = Process.Start(new ProcessStartInfo("bash", [Path.Combine(Repository.Root, "scripts", "ensure-chromium.sh")]) { UseShellExecute = false })!;
        await install.WaitForExitAsync();
        Assert.True(install.ExitCode == 0 && File.Exists(Chromium), "chromium could not be installed (scripts/ensure-chromium.sh)");
    }
}
