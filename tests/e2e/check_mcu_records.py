"""Checks the C agent's stores after a run, from the record format in docs/porting.md and with
tools nobody here wrote: every device's record whole (its CRC-32), COMMITTED, its certificate
verified by `openssl verify -x509_strict` against ROOT with the record's chain, issued to the
device's hardware id, and for the key the record holds (the P-256 scalar, python3-cryptography).
Prints how many devices passed; exits 1 on the first that does not.
Usage: check_mcu_records.py STORE_ROOT ROOT_PEM [EXPECTED_COUNT]"""
import os
import subprocess
import sys
import tempfile
import zlib

from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

COMMITTED = 4


def parse(record):
    if record[:4] != b"IMR1" or zlib.crc32(record[:-4]) != int.from_bytes(record[-4:], "little"):
        raise ValueError("not a whole record")
    state, entries, i, body = record[4], [], 5, len(record) - 4
    while i < body:
        tag, n = record[i], int.from_bytes(record[i + 1:i + 3], "little")
        entries.append((tag, record[i + 3:i + 3 + n]))
        i += 3 + n
    return state, entries


def pem(der):
    return x509.load_der_x509_certificate(der).public_bytes(serialization.Encoding.PEM)


def main():
    store, root = sys.argv[1], sys.argv[2]
    expected = int(sys.argv[3]) if len(sys.argv) > 3 else None
    passed = 0
    for device in sorted(os.listdir(store)):
        def fail(why):
            sys.exit("%s: %s" % (device, why))
        with open(os.path.join(store, device, "record"), "rb") as f:
            state, entries = parse(f.read())
        if state != COMMITTED:
            fail("state %d, not COMMITTED" % state)
        get = lambda tag: [v for t, v in entries if t == tag]
        scalar, cert_der, chain = get(1)[0], get(2)[0], get(3)
        cert = x509.load_der_x509_certificate(cert_der)
        cn = cert.subject.get_attributes_for_oid(NameOID.COMMON_NAME)[0].value
        if cn != device:
            fail("certificate for %r" % cn)
        key = ec.derive_private_key(int.from_bytes(scalar, "big"), ec.SECP256R1())
        if key.public_key().public_numbers() != cert.public_key().public_numbers():
            fail("the certificate is not for the key the device holds")
        with tempfile.TemporaryDirectory() as tmp:
            leaf, untrusted = os.path.join(tmp, "leaf.pem"), os.path.join(tmp, "chain.pem")
            open(leaf, "wb").write(pem(cert_der))
            open(untrusted, "wb").write(b"".join(pem(c) for c in chain[:-1]))
            ok = subprocess.run(["openssl", "verify", "-x509_strict", "-CAfile", root,
                                 "-untrusted", untrusted, leaf], capture_output=True)
            if ok.returncode != 0:
                fail("openssl verify: " + ok.stdout.decode() + ok.stderr.decode())
        passed += 1
    print("%d devices: committed, certificate verified, key the device's" % passed)
    if expected is not None and passed != expected:
        sys.exit("expected %d devices, checked %d" % (expected, passed))


if __name__ == "__main__":
    main()
