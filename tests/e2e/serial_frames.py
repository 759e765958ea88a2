"""The serial link's frames, written from docs/agent-protocol.md ("The serial link") alone,
with nothing from imprint's C or C++ code: COBS between zero bytes, a 6-byte header, the
payload and zlib's CRC-32. Also the little of protobuf's wire format the checks need."""
import zlib

HELLO, HELLO_ACK, REQUEST, RESPONSE = 1, 2, 3, 4
MAX_PAYLOAD = 16384


def cobs_encode(data):
    out = bytearray()
    block = bytearray()
    for b in data:
        if b == 0:
            out.append(len(block) + 1)
            out += block
            block = bytearray()
            continue
        block.append(b)
        if len(block) == 254:
            out.append(255)
            out += block
            block = bytearray()
    out.append(len(block) + 1)
    out += block
    return bytes(out)


def cobs_decode(data):
    out = bytearray()
    i = 0
    while i < len(data):
        code = data[i]
        i += 1
        if code == 0 or i + code - 1 > len(data):
            raise ValueError("bad stuffing")
        out += data[i:i + code - 1]
        i += code - 1
        if code != 255 and i < len(data):
            out.append(0)
    return bytes(out)


def encode(kind, seq, code, payload=b""):
    raw = bytes([kind, seq & 0xFF, seq >> 8, code, len(payload) & 0xFF, len(payload) >> 8]) + payload
    raw += zlib.crc32(raw).to_bytes(4, "little")
    return b"\x00" + cobs_encode(raw) + b"\x00"


class Frame:
    def __init__(self, kind, seq, code, payload):
        self.kind, self.seq, self.code, self.payload = kind, seq, code, payload


def decode(stuffed):
    """A Frame, or the reason the bytes are none: 'malformed' or 'crc'."""
    try:
        raw = cobs_decode(stuffed)
    except ValueError:
        return "malformed"
    if len(raw) < 10:
        return "malformed"
    if zlib.crc32(raw[:-4]) != int.from_bytes(raw[-4:], "little"):
        return "crc"
    length = raw[4] | raw[5] << 8
    if length > MAX_PAYLOAD or length + 10 != len(raw) or raw[0] not in (1, 2, 3, 4):
        return "malformed"
    return Frame(raw[0], raw[1] | raw[2] << 8, raw[3], raw[6:-4])


def split(stream):
    """Every frame in a byte stream, and the reasons of what was not one."""
    frames, dropped = [], []
    for piece in stream.split(b"\x00"):
        if not piece:
            continue
        got = decode(piece)
        (frames if isinstance(got, Frame) else dropped).append(got)
    return frames, dropped


def varint(data, i):
    value, shift = 0, 0
    while True:
        b = data[i]
        i += 1
        value |= (b & 0x7F) << shift
        shift += 7
        if not b & 0x80:
            return value, i


def fields(message):
    """(number, value) for every field: ints for varints, bytes for length-delimited."""
    out, i = [], 0
    while i < len(message):
        key, i = varint(message, i)
        number, wire = key >> 3, key & 7
        if wire == 0:
            value, i = varint(message, i)
        elif wire == 2:
            n, i = varint(message, i)
            value = message[i:i + n]
            i += n
        elif wire == 1:
            value, i = message[i:i + 8], i + 8
        elif wire == 5:
            value, i = message[i:i + 4], i + 4
        else:
            raise ValueError("wire type %d" % wire)
        out.append((number, value))
    return out


def field(message, number, default=b""):
    for n, v in fields(message):
        if n == number:
            return v
    return default
