"""tfevent_writer.py - TensorBoard event files without TensorFlow, for tests.

Written from the format's definition: TFRecord framing (uint64 length,
masked CRC32C of it, data, masked CRC32C of the data) around serialized
tensorboard.Event protobufs (wall_time=1 double, step=2 int64, summary=5;
Summary.value=1; Value.tag=1, simple_value=2 float, tensor=8;
TensorProto.dtype=1, tensor_shape=2, float_val=5 packed, double_val=6).

    w = Writer(path)
    w.scalar("accuracy", 0.5, step=1)          # TF1 simple_value
    w.tensor("loss", 0.25, step=1)             # TF2 scalar tensor (float)
    w.scalar("x", 1, corrupt=True)             # data CRC wrong
    first, rest = w.record_bytes(...)          # a torn record by hand
"""
import struct
import time

_TABLE = []
for _i in range(256):
    _c = _i
    for _ in range(8):
        _c = (_c >> 1) ^ 0x82F63B78 if _c & 1 else _c >> 1
    _TABLE.append(_c)


def crc32c(data):
    c = 0xFFFFFFFF
    for b in data:
        c = _TABLE[(c ^ b) & 0xFF] ^ (c >> 8)
    return c ^ 0xFFFFFFFF


def masked_crc(data):
    c = crc32c(data)
    return (((c >> 15) | (c << 17)) + 0xA282EAD8) & 0xFFFFFFFF


def _varint(v):
    out = bytearray()
    while True:
        b = v & 0x7F
        v >>= 7
        if v:
            out.append(b | 0x80)
        else:
            out.append(b)
            return bytes(out)


def _key(num, wire):
    return _varint(num << 3 | wire)


def _bytes(num, data):
    return _key(num, 2) + _varint(len(data)) + data


def event(tag, value_field, wall=None, step=0):
    """A serialized Event with one Summary.Value (value_field: its bytes)."""
    value = _bytes(1, tag.encode()) + value_field
    summary = _bytes(1, value)
    wall = time.time() if wall is None else wall
    return (_key(1, 1) + struct.pack("<d", wall) + _key(2, 0) +
            _varint(step) + _bytes(5, summary))


def simple_value(v):
    return _key(2, 5) + struct.pack("<f", v)


def float_tensor(v):
    proto = (_key(1, 0) + _varint(1) + _bytes(2, b"") +
             _bytes(5, struct.pack("<f", v)))
    return _bytes(8, proto)


def record(data, corrupt=False):
    head = struct.pack("<Q", len(data))
    crc = masked_crc(data) ^ (1 if corrupt else 0)
    return (head + struct.pack("<I", masked_crc(head)) + data +
            struct.pack("<I", crc))


class Writer:
    def __init__(self, path):
        self.f = open(path, "ab")
        self.write(record(_key(1, 1) + struct.pack("<d", time.time()) +
                          _bytes(3, b"brain.Event:2")))

    def write(self, data):
        self.f.write(data)
        self.f.flush()

    def scalar(self, tag, v, step=0, corrupt=False):
        self.write(record(event(tag, simple_value(v), step=step), corrupt))

    def tensor(self, tag, v, step=0):
        self.write(record(event(tag, float_tensor(v), step=step)))
