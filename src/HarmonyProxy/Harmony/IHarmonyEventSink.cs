namespace HarmonyProxy.Harmony;

/// <summary>
/// Receives what <see cref="HarmonyStreamParser"/> recognises, in order. Text arrives as spans that
/// are only valid during the call, so the parser allocates nothing per delta.
/// </summary>
internal interface IHarmonyEventSink
{
    void OnMessageStart(HarmonyMessageHeader header);

    void OnText(ReadOnlySpan<char> text);

    void OnMessageEnd(HarmonyMessageEnd end);

    void OnStreamEnd(bool truncated);
}
