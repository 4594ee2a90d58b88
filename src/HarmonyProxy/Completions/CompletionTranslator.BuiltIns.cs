using HarmonyProxy.Wire;

namespace HarmonyProxy.Completions;

/// <summary>
/// Calls to gpt-oss's built-in tools (<c>to=python</c>, <c>to=browser.search</c>,
/// <c>container.exec</c>), which nobody declared and the proxy cannot run (edge case 23). A call
/// whose tool the client offered under that name is that function's call; any other is dropped,
/// unless it was all the turn said: then it is shown as text, so the agent sees what the model
/// tried instead of an empty turn it would take for the end of the task.
/// </summary>
internal sealed partial class CompletionTranslator
{
    /// <summary>The most of a built-in call's body held (python code, a search); the rest is cut.</summary>
    private const int MaxBuiltInBodyChars = 64 * 1024;

    private (string Recipient, string Body)? _unansweredBuiltIn;
    private int _unofferedBuiltIns;

    private void BuiltInCall(string recipient, string body)
    {
        if (_output.Tools.BuiltInTarget(recipient) is { } function)
        {
            var call = StartToolCall(function);
            ToolCallText(call, ToolArguments.FromBody(body, _output.Tools.TextParameters.GetValueOrDefault(function, "code")));
            EndToolCall(call, argumentsSeen: true);
            return;
        }

        DroppedToolCalls++;
        _unofferedBuiltIns++;
        _unansweredBuiltIn ??= (recipient, body);
    }

    /// <summary>At the end of a turn that showed nothing: the first built-in call nobody offered, as text (not when the client asked for tool calls to be dropped).</summary>
    private void ShowUnansweredBuiltIn()
    {
        if (_unansweredBuiltIn is { } call && ContentChunks == 0 && _nativeCalls == 0 && _output.ToolCalls != ToolCallMode.Drop)
        {
            EmitContent($"Tool call: {call.Recipient}\n```\n{call.Body.Trim()}\n```\n", separate: false);
        }
    }
}
