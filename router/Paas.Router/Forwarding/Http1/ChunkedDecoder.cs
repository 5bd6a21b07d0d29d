namespace Paas.Router.Forwarding.Http1;

/// <summary>
/// Follows a chunked response body as it arrives (RFC 9112 7.1): the router has to know where the body ends
/// to reuse the connection, and hands Kestrel plain data, which it frames again for its own client.
/// Chunk extensions and trailers are read and dropped.
/// </summary>
public struct ChunkedDecoder
{
    // 15 hex digits (2^60 bytes) is more than any body; refusing more keeps the size from overflowing.
    private const int MaxSizeDigits = 15;

    private State _state;
    private long _remaining;
    private int _digits;

    private enum State { Size, Extension, SizeLf, Data, DataCr, DataLf, TrailerLineStart, TrailerLine, FinalLf, Done }

    public readonly bool IsComplete => _state == State.Done;

    /// <summary>
    /// Reads framing from <paramref name="input"/> up to the end of the body or the end of the next run of
    /// data, whichever comes first. <paramref name="consumed"/> bytes were used; the data, if any, is
    /// <c>input.Slice(dataOffset, dataLength)</c>. Returns false when the framing is malformed.
    /// </summary>
    public bool Decode(ReadOnlySpan<byte> input, out int consumed, out int dataOffset, out int dataLength)
    {
        dataOffset = 0;
        dataLength = 0;
        var i = 0;
        while (i < input.Length && _state != State.Done)
        {
            var b = input[i];
            switch (_state)
            {
                case State.Size:
                    var digit = HexValue(b);
                    if (digit >= 0)
                    {
                        if (_digits == MaxSizeDigits)
                        {
                            consumed = i;
                            return false;
                        }

                        _remaining = (_remaining << 4) | (uint)digit;
                        _digits++;
                    }
                    else if (_digits == 0)
                    {
                        consumed = i;
                        return false;
                    }
                    else if (b is (byte)';' or (byte)' ' or (byte)'\t')
                    {
                        _state = State.Extension;
                    }
                    else if (b == '\r')
                    {
                        _state = State.SizeLf;
                    }
                    else if (b == '\n')
                    {
                        EndSizeLine();
                    }
                    else
                    {
                        consumed = i;
                        return false;
                    }

                    i++;
                    break;

                case State.Extension:
                    if (b == '\r')
                    {
                        _state = State.SizeLf;
                    }
                    else if (b == '\n')
                    {
                        EndSizeLine();
                    }

                    i++;
                    break;

                case State.SizeLf:
                    if (b != '\n')
                    {
                        consumed = i;
                        return false;
                    }

                    EndSizeLine();
                    i++;
                    break;

                case State.Data:
                    var run = (int)Math.Min(_remaining, input.Length - i);
                    dataOffset = i;
                    dataLength = run;
                    _remaining -= run;
                    i += run;
                    if (_remaining == 0)
                    {
                        _state = State.DataCr;
                    }

                    consumed = i;
                    return true;

                case State.DataCr:
                    if (b == '\r')
                    {
                        _state = State.DataLf;
                    }
                    else if (b == '\n')
                    {
                        _state = State.Size;
                    }
                    else
                    {
                        consumed = i;
                        return false;
                    }

                    i++;
                    break;

                case State.DataLf:
                    if (b != '\n')
                    {
                        consumed = i;
                        return false;
                    }

                    _state = State.Size;
                    i++;
                    break;

                case State.TrailerLineStart:
                    _state = b switch
                    {
                        (byte)'\r' => State.FinalLf,
                        (byte)'\n' => State.Done,
                        _ => State.TrailerLine,
                    };
                    i++;
                    break;

                case State.TrailerLine:
                    if (b == '\n')
                    {
                        _state = State.TrailerLineStart;
                    }

                    i++;
                    break;

                case State.FinalLf:
                    if (b != '\n')
                    {
                        consumed = i;
                        return false;
                    }

                    _state = State.Done;
                    i++;
                    break;
            }
        }

        consumed = i;
        return true;
    }

    private void EndSizeLine()
    {
        _state = _remaining == 0 ? State.TrailerLineStart : State.Data;
        _digits = 0;
    }

    private static int HexValue(byte b) => b switch
    {
        >= (byte)'0' and <= (byte)'9' => b - '0',
        >= (byte)'a' and <= (byte)'f' => b - 'a' + 10,
        >= (byte)'A' and <= (byte)'F' => b - 'A' + 10,
        _ => -1,
    };
}
