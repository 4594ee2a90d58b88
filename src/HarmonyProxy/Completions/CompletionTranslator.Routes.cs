using System.Text;
using HarmonyProxy.Harmony;

namespace HarmonyProxy.Completions;

/// <summary>The parsers' events routed to content, reasoning or a tool call.</summary>
internal sealed partial class CompletionTranslator
{
    /// <summary>Each parser reports to its own route, so a reasoning message left open does not capture content.</summary>
    private sealed class ParserRoute(CompletionTranslator owner) : IHarmonyEventSink
    {
        private HarmonyMessageRole _role = HarmonyMessageRole.Dropped;
        private int _toolIndex;
        private bool _firstText;
        private bool _argumentsSeen;
        private string? _builtInRecipient;
        private StringBuilder? _builtInBody;

        public void OnMessageStart(HarmonyMessageHeader header)
        {
            _role = HarmonyClassifier.Classify(header);
            _firstText = true;
            _argumentsSeen = false;
            if (_role == HarmonyMessageRole.ToolCall)
            {
                _toolIndex = owner.StartToolCall(HarmonyClassifier.ToolName(header.Recipient!));
            }
            else if (_role == HarmonyMessageRole.BuiltInCall)
            {
                _builtInRecipient = header.Recipient;
                (_builtInBody ??= new StringBuilder()).Clear();
            }
        }

        /// <summary>The message already open goes on (a continuation): its first text is not a new paragraph.</summary>
        public void ContinueMessage() => _firstText = false;

        public void OnText(ReadOnlySpan<char> text)
        {
            switch (_role)
            {
                case HarmonyMessageRole.Content:
                    owner.EmitContent(text, separate: _firstText);
                    _firstText &= text.IsEmpty;
                    break;
                case HarmonyMessageRole.Reasoning:
                    owner.EmitReasoning(text, separate: _firstText);
                    _firstText &= text.IsEmpty;
                    break;
                case HarmonyMessageRole.ToolCall:
                    // Arguments are the body trimmed: skip whitespace before the JSON starts.
                    var arguments = _argumentsSeen ? text : text.TrimStart();
                    if (!arguments.IsEmpty)
                    {
                        _argumentsSeen = true;
                        owner.ToolCallText(_toolIndex, arguments);
                    }

                    break;
                case HarmonyMessageRole.BuiltInCall:
                    // Held whole: it becomes an offered function's call, or text, only once it is complete.
                    if (_builtInBody!.Length + text.Length <= MaxBuiltInBodyChars)
                    {
                        _builtInBody.Append(text);
                    }

                    break;
            }
        }

        public void OnMessageEnd(HarmonyMessageEnd end)
        {
            if (_role == HarmonyMessageRole.ToolCall)
            {
                owner.EndToolCall(_toolIndex, _argumentsSeen);
            }
            else if (_role == HarmonyMessageRole.BuiltInCall)
            {
                owner.BuiltInCall(_builtInRecipient!, _builtInBody!.ToString());
            }
            else if (_role == HarmonyMessageRole.Content && _firstText)
            {
                // Edge case 28: an empty answer is "", not null.
                owner.EmitEmptyContent();
            }

            _role = HarmonyMessageRole.Dropped;
        }

        public void OnStreamEnd(bool truncated)
        {
        }
    }

    private sealed class UpstreamToolCall(int index)
    {
        public int Index { get; } = index;

        public bool ArgumentsSeen { get; set; }
    }
}
