#!/usr/bin/python3
"""Checks stored key attestation evidence with python3-tpm2-pytss and python3-cryptography.

Usage: check_tpm_evidence.py EVIDENCE_ROOT
EVIDENCE_ROOT holds one directory per device with what `imprint-ca device show --evidence-dir`
writes (ek.der, ak.pub, key.pub, certify.attest, certify.sig) and the device's certificate.pem.
For each: the certify structure is a TPM-generated TPM2_Certify whose attested Name is the
device key's Name; the device key was made in the TPM (fixedTPM, fixedParent,
sensitiveDataOrigin) and is the certificate's key; the certificate names the TPM (manufacturer,
model, version) as the EK certificate does; the AK's ECDSA signature over the structure
verifies. Exits 1 naming the first device that fails.
"""
import os
import sys

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature
from tpm2_pytss.constants import TPM2_GENERATED, TPM2_ST, TPMA_OBJECT
from tpm2_pytss.types import TPM2B_PUBLIC, TPMS_ATTEST, TPMT_SIGNATURE


def read(path):
    with open(path, "rb") as f:
        return f.read()


def whole(cls, data):
    value, used = cls.unmarshal(data)
    if used != len(data):
        raise ValueError(f"{cls.__name__}: {len(data) - used} bytes left over")
    return value


def ecc_point(public):
    point = public.publicArea.unique.ecc
    return int.from_bytes(bytes(point.x), "big"), int.from_bytes(bytes(point.y), "big")


def check(directory):
    key = whole(TPM2B_PUBLIC, read(os.path.join(directory, "key.pub")))
    ak = whole(TPM2B_PUBLIC, read(os.path.join(directory, "ak.pub")))
    attest_bytes = read(os.path.join(directory, "certify.attest"))
    attest = whole(TPMS_ATTEST, attest_bytes)
    signature = whole(TPMT_SIGNATURE, read(os.path.join(directory, "certify.sig")))
    if attest.magic != TPM2_GENERATED.VALUE:
        return "certify structure is not TPM-generated"
    if attest.type != TPM2_ST.ATTEST_CERTIFY:
        return f"certify structure has type {attest.type:#x}"
    if bytes(attest.attested.certify.name) != bytes(key.get_name()):
        return "the certify's attested Name is not the device key's Name"
    made_in_tpm = TPMA_OBJECT.FIXEDTPM | TPMA_OBJECT.FIXEDPARENT | TPMA_OBJECT.SENSITIVEDATAORIGIN
    if key.publicArea.objectAttributes & made_in_tpm != made_in_tpm:
        return "the device key was not made in the TPM"
    cert = x509.load_pem_x509_certificate(read(os.path.join(directory, "certificate.pem")))
    numbers = cert.public_key().public_numbers()
    if (numbers.x, numbers.y) != ecc_point(key):
        return "the certificate's key is not the certified TPM key"
    # The TPM's manufacturer, model and version, as the EK certificate states them.
    ek = x509.load_der_x509_certificate(read(os.path.join(directory, "ek.der")))
    ek_names = ek.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    tpm_names = ek_names.get_values_for_type(x509.DirectoryName)
    cert_names = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    if not tpm_names or cert_names.get_values_for_type(x509.DirectoryName) != tpm_names:
        return "the certificate does not name the TPM as its EK certificate does"
    manufacturer = x509.ObjectIdentifier("2.23.133.2.1")
    if not tpm_names[0].get_attributes_for_oid(manufacturer):
        return "the TPM's name has no tcg-at-tpmManufacturer"
    ak_x, ak_y = ecc_point(ak)
    ak_key = ec.EllipticCurvePublicNumbers(ak_x, ak_y, ec.SECP256R1()).public_key()
    ecdsa = signature.signature.ecdsa
    der = encode_dss_signature(int.from_bytes(bytes(ecdsa.signatureR), "big"),
                               int.from_bytes(bytes(ecdsa.signatureS), "big"))
    try:
        ak_key.verify(der, attest_bytes, ec.ECDSA(hashes.SHA256()))
    except InvalidSignature:
        return "the AK's signature over the certify structure does not verify"
    return None


def main():
    root = sys.argv[1]
    devices = sorted(os.listdir(root))
    for device in devices:
        problem = check(os.path.join(root, device))
        if problem:
            print(f"{device}: {problem}", file=sys.stderr)
            return 1
    print(f"{len(devices)} devices: certify names, key attributes, certificate keys, TPM names "
          "and AK signatures check out")
    return 0


if __name__ == "__main__":
    sys.exit(main())
