#!/usr/bin/env python3
"""A loopback stand-in for a raw ZPL network printer (TCP 9100): it takes each connection's
bytes until the station half-closes, stores them as OUT_DIR/NNNNN.zpl in arrival order, then
closes its side as a printer does.

Usage: fake_printer.py PORT_FILE OUT_DIR [PORT]  (PORT 0 or absent: any free port; the port is
written to PORT_FILE once listening)."""
import os
import socket
import sys
import threading

port_file, out_dir = sys.argv[1], sys.argv[2]
port = int(sys.argv[3]) if len(sys.argv) > 3 else 0
lock = threading.Lock()
count = len([n for n in os.listdir(out_dir) if n.endswith(".zpl")])


def serve(conn):
    global count
    data = b""
    with conn:
        conn.settimeout(30)
        while True:
            chunk = conn.recv(65536)
            if not chunk:
                break
            data += chunk
        with lock:
            count += 1
            path = os.path.join(out_dir, "%05d.zpl" % count)
        with open(path + ".tmp", "wb") as f:
            f.write(data)
        os.rename(path + ".tmp", path)


server = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
server.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
server.bind(("127.0.0.1", port))
server.listen(64)
with open(port_file + ".tmp", "w") as f:
    f.write("%d\n" % server.getsockname()[1])
os.rename(port_file + ".tmp", port_file)
while True:
    conn, _ = server.accept()
    threading.Thread(target=serve, args=(conn,), daemon=True).start()
