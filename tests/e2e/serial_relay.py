"""A relay between the station and serial devices, as a noisy fixture cable would be: for each
device path in DEVICES_IN it opens the device's end and a new pseudo-terminal for the station,
and writes the station's ends to DEVICES_OUT. Bytes are dropped, bit-flipped or repeated at
the given rates per byte, each direction throttled to --baud (10 bits a byte) if given, and
the bytes each side sent (before the noise) appended to --capture DIR/N.to-device and
N.to-station. Runs until SIGTERM.
Usage: serial_relay.py DEVICES_IN DEVICES_OUT [--drop P] [--flip P] [--repeat P] [--baud B]
                       [--seed S] [--capture DIR]"""
import argparse
import os
import random
import select
import signal
import sys
import time
import tty


def open_raw(path):
    fd = os.open(path, os.O_RDWR | os.O_NOCTTY | os.O_NONBLOCK)
    tty.setraw(fd)
    return fd


class Direction:
    def __init__(self, src, dst, capture, args, rng):
        self.src, self.dst, self.capture, self.args, self.rng = src, dst, capture, args, rng
        self.pending = bytearray()
        self.budget = 0.0
        self.last = time.monotonic()
        self.alive = True

    def take(self):
        try:
            data = os.read(self.src, 4096)
        except BlockingIOError:
            return
        except OSError:
            self.alive = False  # the device's process is gone
            return
        if not data:
            return
        if self.capture:
            self.capture.write(data)
            self.capture.flush()
        a, rng = self.args, self.rng
        for b in data:
            r = rng.random()
            if r < a.drop:
                continue
            if r < a.drop + a.flip:
                b ^= 1 << rng.randrange(8)
            self.pending.append(b)
            if rng.random() < a.repeat:
                self.pending.append(b)

    def give(self):
        if not self.pending:
            self.last = time.monotonic()
            return
        n = len(self.pending)
        if self.args.baud:
            now = time.monotonic()
            self.budget = min(self.budget + (now - self.last) * self.args.baud / 10.0, 64.0)
            self.last = now
            n = min(n, int(self.budget))
            if n == 0:
                return
        try:
            written = os.write(self.dst, bytes(self.pending[:n]))
        except (BlockingIOError, OSError):
            return
        del self.pending[:written]
        if self.args.baud:
            self.budget -= written


def main():
    p = argparse.ArgumentParser()
    p.add_argument("devices_in")
    p.add_argument("devices_out")
    p.add_argument("--drop", type=float, default=0.0)
    p.add_argument("--flip", type=float, default=0.0)
    p.add_argument("--repeat", type=float, default=0.0)
    p.add_argument("--baud", type=int, default=0)
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--capture")
    args = p.parse_args()
    rng = random.Random(args.seed)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    directions, outs, keep = [], [], []
    paths = [l.strip() for l in open(args.devices_in) if l.strip()]
    for i, line in enumerate(paths):
        device = open_raw(line[len("serial:"):])
        master, slave = os.openpty()
        tty.setraw(slave)
        os.set_blocking(master, False)
        keep.append(slave)  # held open: the station may close and reopen its end
        outs.append("serial:" + os.ttyname(slave))
        cap = lambda name: open(os.path.join(args.capture, "%d.%s" % (i, name)), "ab") if args.capture else None
        directions.append(Direction(master, device, cap("to-device"), args, rng))
        directions.append(Direction(device, master, cap("to-station"), args, rng))
    with open(args.devices_out + ".tmp", "w") as f:
        f.write("".join(o + "\n" for o in outs))
    os.rename(args.devices_out + ".tmp", args.devices_out)
    while True:
        busy = any(d.pending for d in directions)
        readable = [d.src for d in directions if d.alive]
        ready, _, _ = select.select(readable, [], [], 0.002 if busy else 0.2)
        for d in directions:
            if d.src in ready:
                d.take()
            d.give()


if __name__ == "__main__":
    main()
