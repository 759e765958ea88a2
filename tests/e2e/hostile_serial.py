"""Serial devices that misbehave, one pseudo-terminal each: MODE... of
  garbage   answers every read with random bytes, zeros among them
  oversize  answers with 20000 bytes and no delimiter, then a frame whose length says 65535
  drip      answers HELLO correctly, one byte a second
  bad-crc   answers every frame as a device would, with its CRC off by one bit
Writes serial:PATH a line to DEVICES_OUT; runs until SIGTERM.
Usage: hostile_serial.py DEVICES_OUT MODE..."""
import os
import random
import select
import signal
import sys
import time
import tty
import zlib

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import serial_frames as sf


def send(fd, data):
    """Writes what the station's end will take within 2 s; the rest is dropped."""
    deadline = time.monotonic() + 2
    while data and time.monotonic() < deadline:
        select.select([], [fd], [], 0.05)
        try:
            data = data[os.write(fd, data):]
        except BlockingIOError:
            pass


def ack_for(frame):
    if frame.kind == sf.HELLO:
        return sf.encode(sf.HELLO_ACK, frame.seq, 0, bytes([1, 0x00, 0x10]))
    return sf.encode(sf.RESPONSE, frame.seq, 0, b"")


def main():
    out, modes = sys.argv[1], sys.argv[2:]
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    peers, lines = [], []
    for mode in modes:
        master, slave = os.openpty()
        tty.setraw(slave)
        os.set_blocking(master, False)
        peers.append({"fd": master, "keep": slave, "mode": mode, "buf": b"", "drip": b"", "next": 0})
        lines.append("serial:" + os.ttyname(slave))
    with open(out + ".tmp", "w") as f:
        f.write("".join(l + "\n" for l in lines))
    os.rename(out + ".tmp", out)
    rng = random.Random(7)
    while True:
        ready, _, _ = select.select([p["fd"] for p in peers], [], [], 0.1)
        now = time.monotonic()
        for p in peers:
            if p["drip"] and now >= p["next"]:
                send(p["fd"], p["drip"][:1])
                p["drip"], p["next"] = p["drip"][1:], now + 1.0
            if p["fd"] not in ready:
                continue
            try:
                data = os.read(p["fd"], 4096)
            except OSError:
                continue
            mode = p["mode"]
            if mode == "garbage":
                send(p["fd"], bytes(rng.randrange(256) for _ in range(300)))
                continue
            if mode == "oversize":
                send(p["fd"], b"\x55" * 20000 + b"\x00")
                raw = bytes([sf.RESPONSE, 0, 0, 0, 0xFF, 0xFF])
                send(p["fd"], b"\x00" + sf.cobs_encode(raw + zlib.crc32(raw).to_bytes(4, "little")) + b"\x00")
                continue
            p["buf"] += data
            *pieces, p["buf"] = p["buf"].split(b"\x00")
            for piece in pieces:
                frame = sf.decode(piece) if piece else None
                if not isinstance(frame, sf.Frame):
                    continue
                answer = ack_for(frame)
                if mode == "drip":
                    if not p["drip"] and frame.kind == sf.HELLO:
                        p["drip"] = answer
                elif mode == "bad-crc":
                    raw = bytearray(sf.cobs_decode(answer[1:-1]))
                    raw[-1] ^= 0x01
                    send(p["fd"], b"\x00" + sf.cobs_encode(bytes(raw)) + b"\x00")


if __name__ == "__main__":
    main()
