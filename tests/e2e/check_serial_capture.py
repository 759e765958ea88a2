"""Decodes what the relay captured between the station and the C agents, with the decoder in
serial_frames.py (written from docs/agent-protocol.md alone), and checks each device's
transaction from its bytes: every frame whole, answers matched to requests by sequence number,
the methods in the order of the transaction, the CSR (python3-cryptography) signed by the key
the installed certificate certifies and naming the device, the proof signature over
"imprint-prove-identity-v1\\0" || nonce valid with that key. Prints the bytes each transaction
put on the wire.
Usage: check_serial_capture.py CAPTURE_DIR COUNT"""
import os
import sys

from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import serial_frames as sf

GET_IDENTITY, CREATE_KEY, INSTALL, PROVE, COMMIT = 1, 2, 3, 4, 5


def check(capture, index):
    def fail(why):
        sys.exit("device %d: %s" % (index, why))
    to_device = open(os.path.join(capture, "%d.to-device" % index), "rb").read()
    to_station = open(os.path.join(capture, "%d.to-station" % index), "rb").read()
    requests, dropped_in = sf.split(to_device)
    answers, dropped_out = sf.split(to_station)
    if dropped_in or dropped_out:
        fail("frames that do not decode: %s" % (dropped_in + dropped_out))
    if requests[0].kind != sf.HELLO or answers[0].kind != sf.HELLO_ACK or answers[0].payload[0] != 1:
        fail("the session does not open with HELLO / HELLO_ACK version 1")
    by_seq = {a.seq: a for a in answers if a.kind == sf.RESPONSE}
    calls = []
    for r in requests:
        if r.kind != sf.REQUEST:
            continue
        a = by_seq.get(r.seq)
        if a is None:
            fail("request %d (method %d) has no answer" % (r.seq, r.code))
        if a.code != 0:
            fail("method %d answered status %d: %s" % (r.code, a.code, a.payload))
        calls.append((r.code, r.payload, a.payload))
    methods = [m for m, _, _ in calls]
    if methods != [GET_IDENTITY, CREATE_KEY, INSTALL, PROVE, COMMIT]:
        fail("methods %s" % methods)
    device_id = sf.field(calls[0][2], 1).decode()
    csr = x509.load_der_x509_csr(sf.field(calls[1][2], 1))
    if not csr.is_signature_valid:
        fail("the CSR's signature")
    if csr.subject.get_attributes_for_oid(NameOID.COMMON_NAME)[0].value != device_id:
        fail("the CSR names another device")
    cert = x509.load_der_x509_certificate(sf.field(calls[2][1], 1))
    if cert.public_key().public_numbers() != csr.public_key().public_numbers():
        fail("the certificate installed is not for the CSR's key")
    nonce = sf.field(calls[3][1], 1)
    signature = sf.field(calls[3][2], 1)
    cert.public_key().verify(signature, b"imprint-prove-identity-v1\x00" + nonce,
                             ec.ECDSA(hashes.SHA256()))
    return len(to_device), len(to_station)


def main():
    capture, count = sys.argv[1], int(sys.argv[2])
    sizes = [check(capture, i) for i in range(count)]
    down = sorted(s[0] for s in sizes)[count // 2]
    up = sorted(s[1] for s in sizes)[count // 2]
    print("%d transactions decoded and checked; bytes on the wire per device (median): "
          "%d to the device, %d to the station, %d in all" % (count, down, up, down + up))


if __name__ == "__main__":
    main()
