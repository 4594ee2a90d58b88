namespace HarmonyProxy.Upstream;

/// <summary>
/// One client request's retries, shared by the two places that retry: the send pipeline (a
/// refused connection, a 503 before any header) and the attempt loop (a stream that broke before
/// anything visible). <c>MaxRetries=N</c> then means at most N+1 requests reach llama-server for
/// transient failures, whichever layer met them; <see cref="Sent"/> counts them all.
/// </summary>
internal sealed class UpstreamRetryBudget(int maxRetries)
{
    /// <summary>The key under which a request message carries its budget to the retry strategy.</summary>
    public static readonly HttpRequestOptionsKey<UpstreamRetryBudget> Key = new("HarmonyProxy.RetryBudget");

    private int _remaining = maxRetries;
    private int _sent;

    /// <summary>Requests that reached the wire for this client request (first sends, retries and recoveries).</summary>
    public int Sent => Volatile.Read(ref _sent);

    /// <summary>Takes one retry; false when the budget is spent.</summary>
    public bool TryTake() => Interlocked.Decrement(ref _remaining) >= 0;

    /// <summary>Counts a request as sent (the send pipeline calls it once per try).</summary>
    public void CountSend() => Interlocked.Increment(ref _sent);
}
