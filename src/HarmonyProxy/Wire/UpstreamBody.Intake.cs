using System.Threading.Tasks.Sources;

namespace HarmonyProxy.Wire;

/// <summary>The copy's side of the hand-over.</summary>
internal sealed partial class UpstreamBody
{
    /// <summary>The stream the body is copied to: each write is offered to the reader and waits until it has been taken.</summary>
    private sealed class Intake(UpstreamBody owner) : Stream, IValueTaskSource
    {
        private ManualResetValueTaskSourceCore<bool> _taken;

        public override bool CanRead => false;

        public override bool CanSeek => false;

        public override bool CanWrite => true;

        public override long Length => throw new NotSupportedException();

        public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }

        public override ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default) =>
            buffer.IsEmpty ? ValueTask.CompletedTask : owner.Offer(buffer);

        public override Task WriteAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
            WriteAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException("The body is copied asynchronously.");

        public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();

        public override void Flush()
        {
        }

        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

        public override void SetLength(long value) => throw new NotSupportedException();

        public void Reset() => _taken.Reset();

        public ValueTask Wait() => new(this, _taken.Version);

        public void Resume() => _taken.SetResult(true);

        public void Stop() => _taken.SetException(new OperationCanceledException("The upstream body is no longer read."));

        void IValueTaskSource.GetResult(short token) => _taken.GetResult(token);

        ValueTaskSourceStatus IValueTaskSource.GetStatus(short token) => _taken.GetStatus(token);

        void IValueTaskSource.OnCompleted(Action<object?> continuation, object? state, short token, ValueTaskSourceOnCompletedFlags flags)
        {
            _taken.OnCompleted(continuation, state, token, flags);
            owner.WakeReadAfterCopyWaits();
        }
    }
}
