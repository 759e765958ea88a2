#!/usr/bin/python3
"""Opens a value sealed by common/offline/sealed_secret.h with python3-cryptography, from the
format as documented there: an implementation nobody here wrote checks ours.
Usage: open_sealed.py SEALED_HEX_FILE PRIVATE_KEY_PEM ALLOWANCE DEVICE NAME
Prints the value; exits 1 when it does not open."""
import sys

from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

INFO = b"imprint-sealed-secret-v1"


def main():
    sealed_file, key_file, allowance, device, name = sys.argv[1:6]
    sealed = bytes.fromhex(open(sealed_file).read().strip())
    key = serialization.load_pem_private_key(open(key_file, "rb").read(), password=None)
    if sealed[0] != 1:
        sys.exit("unknown version")
    point, iv, body = sealed[1:66], sealed[66:78], sealed[78:]
    peer = ec.EllipticCurvePublicKey.from_encoded_point(ec.SECP256R1(), point)
    shared = key.exchange(ec.ECDH(), peer)
    aad = INFO + b"\0" + allowance.encode() + b"\0" + device.encode() + b"\0" + name.encode()
    aes_key = HKDF(algorithm=hashes.SHA256(), length=32, salt=point, info=aad).derive(shared)
    try:
        value = AESGCM(aes_key).decrypt(iv, body, aad)
    except Exception:  # InvalidTag
        print("does not open")
        sys.exit(1)
    print(value.decode())


main()
