#!/usr/bin/python3
"""A hostile peer on the factory network, for line_test.sh's network cases.

  idle HOST:PORT N [SRC]    open N TCP connections that never speak (from address SRC, default
                            127.0.0.1); hold them until killed
  silent HOST:PORT          one silent connection: print how many seconds until the CA drops it
  no-cert HOST:PORT CA N    N TLS handshakes without a client certificate; print how many the
                            CA refused during the handshake
  bad-token HOST:PORT CA N  N EnrollStation calls with a wrong token; print the status codes
"""
import resource
import signal
import socket
import ssl
import sys
import time


def split(address):
    host, port = address.rsplit(":", 1)
    return host, int(port)


def idle(address, n, source="127.0.0.1"):
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    held = []
    for _ in range(n):
        s = socket.create_connection(split(address), timeout=5, source_address=(source, 0))
        held.append(s)
    print(f"holding {len(held)}", flush=True)
    signal.sigwait([signal.SIGTERM, signal.SIGINT])


def silent(address):
    s = socket.create_connection(split(address), timeout=60)
    start = time.monotonic()
    try:
        data = s.recv(1)
    except (ConnectionResetError, socket.timeout):
        data = b""
    print(f"{time.monotonic() - start:.1f}" if data == b"" else "spoke")


def no_cert(address, ca, n):
    context = ssl.create_default_context(cafile=ca)
    context.check_hostname = False
    refused = 0
    for _ in range(n):
        with socket.create_connection(split(address), timeout=10) as raw:
            try:
                with context.wrap_socket(raw) as tls:
                    # TLS 1.3: the server's refusal arrives after the client's Finished.
                    tls.settimeout(10)
                    tls.sendall(b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n")
                    if tls.recv(1) == b"":
                        refused += 1
            except (ssl.SSLError, ConnectionResetError, BrokenPipeError):
                refused += 1
    print(refused)


def bad_token(address, ca, n):
    import grpc

    def field(number, value):
        data = value.encode() if isinstance(value, str) else value
        return bytes([number << 3 | 2, len(data)]) + data

    request = field(1, "line-x") + field(2, "not-the-token") + field(3, b"\x30\x00")
    credentials = grpc.ssl_channel_credentials(open(ca, "rb").read())
    codes = {}
    with grpc.secure_channel(address, credentials) as channel:
        call = channel.unary_unary("/imprint.v1.CertificateAuthority/EnrollStation")
        for _ in range(n):
            try:
                call(request, timeout=10)
                code = "OK"
            except grpc.RpcError as e:
                code = e.code().name
            codes[code] = codes.get(code, 0) + 1
    print(" ".join(f"{k}={v}" for k, v in sorted(codes.items())))


if __name__ == "__main__":
    mode, args = sys.argv[1], sys.argv[2:]
    if mode == "idle":
        idle(args[0], int(args[1]), *args[2:3])
    elif mode == "silent":
        silent(args[0])
    elif mode == "no-cert":
        no_cert(args[0], args[1], int(args[2]))
    elif mode == "bad-token":
        bad_token(args[0], args[1], int(args[2]))
    else:
        sys.exit(f"unknown mode {mode}")
