"""The Matter certificate profile rules matter.js does not enforce (it accepts extra keyUsage
bits), read with python3-cryptography: every DAC under DEVICES_DIR and its PAI, and the PAA.
Usage: /usr/bin/python3 check_profile.py PAA_PEM DEVICES_DIR. Exits 1 naming every failure."""
import os
import sys

from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtensionOID

VID = x509.ObjectIdentifier("1.3.6.1.4.1.37244.2.1")
PID = x509.ObjectIdentifier("1.3.6.1.4.1.37244.2.2")
failures = []


def check(cert, kind, where):
    def bad(why):
        failures.append(f"{where} ({kind}): {why}")

    der = cert.public_bytes(serialization.Encoding.DER)
    if len(der) > 600:
        bad(f"{len(der)} bytes of DER")
    if cert.version != x509.Version.v3:
        bad("not v3")
    if cert.signature_hash_algorithm.name != "sha256":
        bad("not signed with SHA-256")
    key = cert.public_key()
    if not isinstance(key, ec.EllipticCurvePublicKey) or key.curve.name != "secp256r1":
        bad("key not P-256")
    bc = cert.extensions.get_extension_for_oid(ExtensionOID.BASIC_CONSTRAINTS)
    if not bc.critical:
        bad("basicConstraints not critical")
    if kind == "DAC" and (bc.value.ca or bc.value.path_length is not None):
        bad("basicConstraints not CA:FALSE without pathLen")
    if kind == "PAI" and (not bc.value.ca or bc.value.path_length != 0):
        bad("basicConstraints not CA:TRUE pathLen 0")
    if kind == "PAA" and (not bc.value.ca or bc.value.path_length not in (None, 1)):
        bad("basicConstraints not CA:TRUE")
    ku_ext = cert.extensions.get_extension_for_oid(ExtensionOID.KEY_USAGE)
    ku = ku_ext.value
    bits = {n for n in ("digital_signature", "content_commitment", "key_encipherment",
                        "data_encipherment", "key_agreement", "key_cert_sign", "crl_sign")
            if getattr(ku, n)}
    if not ku_ext.critical:
        bad("keyUsage not critical")
    if kind == "DAC" and bits != {"digital_signature"}:
        bad(f"keyUsage {sorted(bits)}, not exactly digitalSignature")
    if kind != "DAC" and not ({"key_cert_sign", "crl_sign"} <= bits <=
                              {"key_cert_sign", "crl_sign", "digital_signature"}):
        bad(f"keyUsage {sorted(bits)}")
    skid = cert.extensions.get_extension_for_oid(ExtensionOID.SUBJECT_KEY_IDENTIFIER)
    if len(skid.value.digest) != 20:
        bad("subjectKeyIdentifier not 20 bytes")
    if kind != "PAA":
        akid = cert.extensions.get_extension_for_oid(ExtensionOID.AUTHORITY_KEY_IDENTIFIER)
        if akid.value.key_identifier is None or len(akid.value.key_identifier) != 20:
            bad("authorityKeyIdentifier not 20 bytes")
    ids = {}
    for oid, name in ((VID, "vid"), (PID, "pid")):
        attrs = cert.subject.get_attributes_for_oid(oid)
        if attrs:
            value = attrs[0].value
            if len(value) != 4 or value.upper() != value or int(value, 16) < 0:
                bad(f"{name} {value!r} not 4 upper-case hex digits")
            if attrs[0]._type.value != 12:  # UTF8String
                bad(f"{name} not a UTF8String")
            ids[name] = value
    if kind == "DAC" and set(ids) != {"vid", "pid"}:
        bad("DAC subject lacks VID or PID")
    if kind == "PAA" and "pid" in ids:
        bad("PAA subject carries a PID")
    return ids


paa = x509.load_pem_x509_certificate(open(sys.argv[1], "rb").read())
check(paa, "PAA", sys.argv[1])
checked = 0
for name in sorted(os.listdir(sys.argv[2])):
    path = os.path.join(sys.argv[2], name)
    if not os.path.exists(os.path.join(path, "certificate.pem")):
        continue
    dac = x509.load_pem_x509_certificate(open(os.path.join(path, "certificate.pem"), "rb").read())
    chain = open(os.path.join(path, "chain.pem"), "rb").read()
    pai = x509.load_pem_x509_certificate(chain.split(b"-----END CERTIFICATE-----")[0] +
                                         b"-----END CERTIFICATE-----\n")
    dac_ids = check(dac, "DAC", name)
    pai_ids = check(pai, "PAI", name)
    if dac_ids.get("vid") != pai_ids.get("vid"):
        failures.append(f"{name}: DAC VID differs from the PAI's")
    if "pid" in pai_ids and dac_ids.get("pid") != pai_ids["pid"]:
        failures.append(f"{name}: DAC PID differs from the PAI's")
    checked += 1

for f in failures:
    print("FAIL", f)
print(f"profile: {checked} DACs and their PAIs checked, {len(failures)} failures")
sys.exit(1 if failures or checked == 0 else 0)
