#!/usr/bin/python3
"""Checks imprint's hand-over files with tools imprint did not write: python3-jwcrypto for
every JWS, openssl verify for every certificate, Python's json and csv modules for the files'
shape. Usage: check_handover.py KIND DIR ROOT_PEM, KIND one of manifest, aws, azure, csv,
evidence. Prints one summary line; exits 1 with the reason on the first problem."""

import base64
import csv
import glob
import hashlib
import json
import os
import subprocess
import sys
import tempfile

from cryptography import x509
from cryptography.x509.oid import NameOID
from jwcrypto import jwk, jws

DOCUMENT_SIGNING = x509.ObjectIdentifier("1.3.6.1.5.5.7.3.36")  # id-kp-documentSigning


def fail(message):
    print("FAIL: " + message)
    sys.exit(1)


def openssl_verify(cert_pems, root, issuing_pem=None):
    """openssl verify of each PEM against root (and the issuing CA as untrusted)."""
    with tempfile.TemporaryDirectory() as tmp:
        args = ["openssl", "verify", "-CAfile", root]
        if issuing_pem:
            path = os.path.join(tmp, "issuing.pem")
            with open(path, "w") as f:
                f.write(issuing_pem)
            args += ["-untrusted", path]
        paths = []
        for i, pem in enumerate(cert_pems):
            path = os.path.join(tmp, "c%d.pem" % i)
            with open(path, "w") as f:
                f.write(pem)
            paths.append(path)
        for start in range(0, len(paths), 200):
            run = subprocess.run(args + paths[start:start + 200], capture_output=True, text=True)
            if run.returncode != 0:
                fail("openssl verify: " + run.stdout + run.stderr)


def der_to_pem(der):
    b64 = base64.b64encode(der).decode()
    lines = [b64[i:i + 64] for i in range(0, len(b64), 64)]
    return "-----BEGIN CERTIFICATE-----\n" + "\n".join(lines) + "\n-----END CERTIFICATE-----\n"


def signer_key(directory):
    with open(os.path.join(directory, "manifest-signer.pem"), "rb") as f:
        pem = f.read()
    first = pem[:pem.index(b"-----END CERTIFICATE-----") + 26]
    return jwk.JWK.from_pem(first), first


def check_signer(directory, root):
    """The signer chains to root through the rest of its file and carries documentSigning."""
    key, first = signer_key(directory)
    with open(os.path.join(directory, "manifest-signer.pem")) as f:
        chain = f.read()
    openssl_verify([first.decode()], root, chain[len(first):] or None)
    cert = x509.load_pem_x509_certificate(first)
    try:
        usages = cert.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value
    except x509.ExtensionNotFound:
        usages = []
    if DOCUMENT_SIGNING not in usages:
        fail("the signer certificate lacks extended key usage documentSigning")
    return key


def check_manifest(directory, root):
    key = check_signer(directory, root)
    with open(os.path.join(directory, "manifest.json")) as f:
        entries = json.load(f)
    if not isinstance(entries, list):
        fail("manifest is not an array")
    statuses = {}
    pems, issuing = [], None
    for entry in entries:
        token = jws.JWS()
        token.deserialize(json.dumps(entry))
        token.verify(key)  # raises on a bad signature
        header = json.loads(base64.urlsafe_b64decode(entry["protected"] + "=="))
        if header.get("alg") != "ES256" or "kid" not in header or "x5t#S256" not in header:
            fail("protected header " + repr(header))
        payload = json.loads(token.payload)
        if payload["uniqueId"] != entry["header"]["uniqueId"]:
            fail("uniqueId differs from the header's")
        for field in ("order", "product", "station", "provisioningTimestamp",
                      "certificateSerial", "status", "publicKeySet"):
            if field not in payload:
                fail("payload lacks " + field)
        key0 = payload["publicKeySet"]["keys"][0]
        x5c = [base64.b64decode(c) for c in key0["x5c"]]
        device = x509.load_der_x509_certificate(x5c[0])
        names = device.subject.get_attributes_for_oid(NameOID.COMMON_NAME)
        if [n.value for n in names] != [payload["uniqueId"]]:
            fail("the certificate of %r names %r" % (payload["uniqueId"], names))
        pems.append(der_to_pem(x5c[0]))
        issuing = der_to_pem(x5c[1])
        statuses[payload["uniqueId"]] = payload["status"]
    if pems:
        openssl_verify(pems, root, issuing)
    print("manifest ok %d %s" % (len(entries), json.dumps(statuses, sort_keys=True)))


def check_aws(directory, root):
    with open(os.path.join(directory, "aws-template.json")) as f:
        template = json.load(f)
    parameters = set(template["Parameters"])
    with open(os.path.join(directory, "aws-jitp-template.json")) as f:
        jitp = json.load(f)
    if "AWS::IoT::Certificate::CommonName" not in jitp["Parameters"]:
        fail("JITP template lacks the CommonName parameter")
    names, pems, issuing = [], [], None
    with open(os.path.join(directory, "aws-bulk.ndjson")) as f:
        for number, line in enumerate(f, 1):
            row = json.loads(line)
            if set(row) != parameters:
                fail("line %d has %s, the template declares %s" % (number, sorted(row), sorted(parameters)))
            names.append(row["ThingName"])
            pems.append(row["CertificatePem"])
            issuing = row["CACertificatePem"]
    if pems:
        openssl_verify(pems, root, issuing)
    print("aws ok %d %s" % (len(names), ",".join(sorted(names))))


def check_azure(directory, root):
    with open(os.path.join(directory, "azure-enrollment-group.json")) as f:
        group = json.load(f)
    issuing = group["attestation"]["x509"]["signingCertificates"]["primary"]["certificate"]
    openssl_verify([issuing], root)
    ids, pems, sizes = [], [], []
    for path in sorted(glob.glob(os.path.join(directory, "azure-enrollments-*.json"))):
        with open(path) as f:
            body = json.load(f)
        if body["mode"] != "create" or not 1 <= len(body["enrollments"]) <= 10:
            fail(path + " holds %d enrollments" % len(body["enrollments"]))
        sizes.append(len(body["enrollments"]))
        for e in body["enrollments"]:
            if e["registrationId"] != e["deviceId"] or e["attestation"]["type"] != "x509":
                fail("enrollment " + json.dumps(e)[:200])
            ids.append(e["registrationId"])
            pems.append(e["attestation"]["x509"]["clientCertificates"]["primary"]["certificate"])
    if pems:
        openssl_verify(pems, root, issuing)
    print("azure ok %d %s %s" % (len(ids), sizes, ",".join(sorted(ids))))


def check_csv(directory, _root):
    with open(os.path.join(directory, "devices.csv"), newline="") as f:
        rows = list(csv.reader(f, strict=True))
    if rows[0] != ["device_id", "serial", "sha256_fingerprint", "status", "station", "time"]:
        fail("header " + repr(rows[0]))
    for row in rows[1:]:
        if len(row) != 6 or len(row[2]) != 64:
            fail("row " + repr(row))
    print("csv ok %d %s" % (len(rows) - 1, json.dumps({r[0]: [r[2], r[3]] for r in rows[1:]},
                                                       sort_keys=True)))


def check_evidence(directory, root):
    key = check_signer(directory, root)
    with open(os.path.join(directory, "evidence.sig.json")) as f:
        token = jws.JWS()
        token.deserialize(f.read())
    token.verify(key)
    signed = json.loads(token.payload)
    for name, digest in signed["sha256"].items():
        with open(os.path.join(directory, name), "rb") as f:
            if hashlib.sha256(f.read()).hexdigest() != digest:
                fail(name + " does not match its signed digest")
    with open(os.path.join(directory, "evidence.json")) as f:
        evidence = json.load(f)
    with open(os.path.join(directory, "evidence.html")) as f:
        html = f.read()
    for needle in ("http://", "https://", "<script", "src=", "@import"):
        if needle in html:
            fail("evidence.html refers outside itself: " + needle)
    verdicts = {p["id"]: p["verdict"] for p in evidence["provisions"]}
    print("evidence ok %s %s" % (evidence["verdict"], json.dumps(verdicts, sort_keys=True)))


if __name__ == "__main__":
    kind, directory, root = sys.argv[1:4]
    {"manifest": check_manifest, "aws": check_aws, "azure": check_azure, "csv": check_csv,
     "evidence": check_evidence}[kind](directory, root)
