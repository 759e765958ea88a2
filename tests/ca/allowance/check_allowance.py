#!/usr/bin/python3
"""Checks a signed allowance with tools imprint did not write: python3-jwcrypto verifies the
JWS with the key of the first x5c certificate, python3-cryptography reads the certificates (the
signer must be an end entity with extended key usage documentSigning), and openssl verify
-x509_strict checks that the signer and the subordinate CA are issued by ROOT_PEM itself. Usage:
check_allowance.py JWS_FILE SUBORDINATE_PEM ROOT_PEM. Prints one line (allowance, order, station,
count) or FAIL with the reason, exiting 1."""

import base64
import hashlib
import json
import subprocess
import sys
import tempfile

from cryptography import x509
from cryptography.hazmat.primitives import serialization
from jwcrypto import jwk, jws


def fail(message):
    print("FAIL: " + message)
    sys.exit(1)


def main():
    jws_path, subordinate_path, root_path = sys.argv[1:4]
    with open(jws_path) as f:
        text = f.read()
    token = jws.JWS()
    try:
        token.deserialize(text)
    except Exception as e:  # jwcrypto raises several types for a malformed object
        fail("not a JWS: %s" % e)
    header = token.jose_header
    if header.get("typ") != "imprint-allowance+jws":
        fail("typ is %r" % header.get("typ"))
    chain = [base64.b64decode(c) for c in header.get("x5c", [])]
    if len(chain) != 2:
        fail("x5c holds %d certificates, not 2" % len(chain))
    signer = x509.load_der_x509_certificate(chain[0])
    if signer.extensions.get_extension_for_class(x509.BasicConstraints).value.ca:
        fail("the signer is a CA")
    usages = signer.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value
    if x509.ObjectIdentifier("1.3.6.1.5.5.7.3.36") not in usages:
        fail("the signer lacks extended key usage documentSigning")
    key = jwk.JWK.from_pyca(signer.public_key())
    try:
        token.verify(key)
    except Exception as e:
        fail("signature: %s" % e)
    payload = json.loads(token.payload)

    with open(subordinate_path, "rb") as f:
        subordinate = x509.load_pem_x509_certificate(f.read())
    spki = subordinate.public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
    if hashlib.sha256(spki).hexdigest() != payload["subordinate_spki_sha256"]:
        fail("the allowance names another subordinate key")
    if format(subordinate.serial_number, "x") != payload["subordinate_serial"].lower().lstrip("0"):
        fail("the allowance names another subordinate certificate")
    if int(subordinate.not_valid_after.timestamp()) != payload["not_after_ms"] // 1000:
        fail("the subordinate CA does not end with the allowance")

    with tempfile.NamedTemporaryFile("wb", suffix=".pem") as signer_file:
        signer_file.write(signer.public_bytes(serialization.Encoding.PEM))
        signer_file.flush()
        for what, target in (("signer", signer_file.name), ("subordinate CA", subordinate_path)):
            # No -untrusted: each must be issued by the root itself.
            verify = subprocess.run(["openssl", "verify", "-x509_strict", "-CAfile", root_path,
                                     target], capture_output=True, text=True)
            if verify.returncode != 0:
                fail("openssl verify of the %s: %s" % (what, verify.stdout + verify.stderr))
    print("allowance %s order %s station %s count %d" %
          (payload["allowance"], payload["order"], payload["station"], payload["count"]))


if __name__ == "__main__":
    main()
