using System.Buffers;

namespace HarmonyProxy.Wire;

/// <summary>The reader's pooled buffers: the BOM at the start, the event handed out, room for the next read.</summary>
internal sealed partial class UpstreamEventReader
{
    private bool TrySkipBom()
    {
        ReadOnlySpan<byte> bom = [0xEF, 0xBB, 0xBF];
        var pending = _buffer.AsSpan(_start, _end - _start);
        if (pending.Length < bom.Length && !_endOfBody && bom.StartsWith(pending))
        {
            return false;
        }

        if (pending.StartsWith(bom))
        {
            _start += bom.Length;
        }

        _bomChecked = true;
        return true;
    }

    private void SetCurrent(byte[] array, int offset, int length)
    {
        _currentArray = array;
        _currentOffset = offset;
        _currentLength = length;
    }

    /// <summary>The previous event's bytes may be overwritten from here on.</summary>
    private void ReleaseCurrent()
    {
        if (ReferenceEquals(_currentArray, _data))
        {
            _dataLength = 0;
            _dataAppended = false;
        }

        SetCurrent([], 0, 0);
    }

    /// <summary>Makes space after <c>_end</c>: rewinds when everything was consumed, else slides or grows.</summary>
    private void MakeRoom()
    {
        if (_start == _end)
        {
            _start = _end = 0;
        }

        if (_end < _buffer.Length)
        {
            return;
        }

        var pending = _end - _start;
        if (_start > 0)
        {
            _buffer.AsSpan(_start, pending).CopyTo(_buffer);
        }
        else
        {
            var grown = ArrayPool<byte>.Shared.Rent(_buffer.Length * 2);
            _buffer.AsSpan(0, pending).CopyTo(grown);
            ArrayPool<byte>.Shared.Return(_buffer);
            _buffer = grown;
        }

        _start = 0;
        _end = pending;
    }

    private void AppendData(ReadOnlySpan<byte> value)
    {
        var separator = _dataAppended ? 1 : 0;
        var needed = _dataLength + separator + value.Length;
        if (needed > maxEventBytes)
        {
            throw new UpstreamEventTooLargeException($"An upstream event exceeded {maxEventBytes} bytes.");
        }

        if (_data is null || needed > _data.Length)
        {
            var grown = ArrayPool<byte>.Shared.Rent(Math.Max(needed, InitialBufferBytes));
            if (_data is not null)
            {
                _data.AsSpan(0, _dataLength).CopyTo(grown);
                ArrayPool<byte>.Shared.Return(_data);
            }

            _data = grown;
        }

        if (separator == 1)
        {
            _data[_dataLength++] = LF;
        }

        value.CopyTo(_data.AsSpan(_dataLength));
        _dataLength += value.Length;
        _dataAppended = true;
    }
}
