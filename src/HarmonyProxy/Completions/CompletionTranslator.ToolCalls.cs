using System.Security.Cryptography;
using HarmonyProxy.Diagnostics;

namespace HarmonyProxy.Completions;

/// <summary>Tool calls, from the parser or from llama-server's own fields: the form each takes (native, text, dropped by the request's policy) and where its pieces go.</summary>
internal sealed partial class CompletionTranslator
{
    /// <summary>Opens a call in the form its tool and the request allow; returns its number for the route.</summary>
    /// <param name="upstreamName">The name llama-server saw: the client's, or the one it was renamed to (<see cref="ToolPolicy.ClientNames"/>).</param>
    private int StartToolCall(string upstreamName)
    {
        var name = _output.Tools.ClientName(upstreamName);
        var mode = ModeFor(name);
        var clientIndex = -1;
        switch (mode)
        {
            case ToolCallMode.Native:
                clientIndex = _nativeCalls++;
                CloseThink();
                var id = NewId("call_");
                _nativeCallIds.Add(id);
                Recorder?.ClientText(TrafficPart.ToolCall, default, name);
                _sink.ToolCallStart(clientIndex, id, name);
                break;
            case ToolCallMode.Text:
                EmitContent($"Tool call: {name}\n```json\n", separate: true);
                break;
        }

        _calls.Add(new ToolCallRoute(mode, clientIndex));
        return _calls.Count - 1;
    }

    /// <summary>
    /// The tool-call option for an offered call; a call to a tool the request did not offer is
    /// never a native call (it is text under <c>text</c>, else dropped), and past the first call
    /// with <c>parallel_tool_calls: false</c> the rest are dropped.
    /// </summary>
    private ToolCallMode ModeFor(string name)
    {
        if (!_output.Tools.Offers(name))
        {
            if (_output.ToolCalls == ToolCallMode.Native)
            {
                DroppedToolCalls++;
                return ToolCallMode.Drop;
            }

            return _output.ToolCalls;
        }

        if (!_output.Tools.ParallelToolCalls && _callsLetThrough > 0)
        {
            DroppedToolCalls++;
            return ToolCallMode.Drop;
        }

        _callsLetThrough++;
        return _output.ToolCalls;
    }

    private void ToolCallText(int call, ReadOnlySpan<char> arguments)
    {
        var route = _calls[call];
        switch (route.Mode)
        {
            case ToolCallMode.Native:
                Recorder?.ClientText(TrafficPart.ToolCall, arguments);
                _sink.ToolCallArguments(route.ClientIndex, arguments);
                break;
            case ToolCallMode.Text:
                ToClientContent(arguments);
                break;
        }
    }

    private void EndToolCall(int call, bool argumentsSeen)
    {
        if (!argumentsSeen)
        {
            // Edge case 34: an empty body is an empty argument object.
            ToolCallText(call, "{}");
        }

        if (_calls[call].Mode == ToolCallMode.Text)
        {
            ToClientContent("\n```\n");
        }
    }

    private static string NewId(string prefix)
    {
        // OpenAI ids look like call_ + 24 alphanumerics; clients only echo them back.
        const string Alphabet = "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ";
        Span<char> chars = stackalloc char[24];
        for (var i = 0; i < chars.Length; i++)
        {
            chars[i] = Alphabet[RandomNumberGenerator.GetInt32(Alphabet.Length)];
        }

        return string.Concat(prefix, chars);
    }

    /// <summary>Where one call's pieces go: its form, and its index among the client's tool calls (native only).</summary>
    private readonly record struct ToolCallRoute(ToolCallMode Mode, int ClientIndex);
}
