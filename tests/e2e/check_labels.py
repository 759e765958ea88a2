#!/usr/bin/env python3
"""Checks rendered password labels against the devices (docs/labels.md, templates/labels/
password.zpl): each PNG's barcodes as Debian's zbarimg reads them, judged against what the
device itself holds in its agent store.

Usage: check_labels.py PNG_DIR AGENT_STORE COUNT
  - every label has a QR code "imprint:DEVICE?password=PASSWORD" and a Code 128 label code;
  - PASSWORD is the one the device was given (its store's secrets.json);
  - the label code is "IMP1-" and the first 8 bytes of SHA-256 over the device's certificate
    (its store's certificate.pem, DER), computed here with python3-cryptography;
  - COUNT labels, one per device: no device labelled twice, no label for a device not there.
Prints "labels: N checked"."""
import glob
import hashlib
import json
import os
import subprocess
import sys

from cryptography import x509
from cryptography.hazmat.primitives.serialization import Encoding

png_dir, store, count = sys.argv[1], sys.argv[2], int(sys.argv[3])


def fail(why):
    print("FAIL: check_labels: " + why, file=sys.stderr)
    sys.exit(1)


seen = {}
pngs = sorted(glob.glob(os.path.join(png_dir, "*.png")))
for png in pngs:
    out = subprocess.run(["zbarimg", "-q", png], capture_output=True, text=True)
    symbols = {}
    for line in out.stdout.splitlines():
        kind, _, text = line.partition(":")
        symbols[kind] = text
    qr, code = symbols.get("QR-Code"), symbols.get("CODE-128")
    if qr is None or code is None:
        fail("%s: zbarimg read %s" % (png, sorted(symbols)))
    if not qr.startswith("imprint:") or "?password=" not in qr:
        fail("%s: QR %r is not the documented URI" % (png, qr[:20]))
    device, _, password = qr[len("imprint:"):].partition("?password=")
    device_dir = os.path.join(store, device)
    if not os.path.isdir(device_dir):
        fail("%s: a label for %s, no such device" % (png, device))
    with open(os.path.join(device_dir, "certificate.pem"), "rb") as f:
        der = x509.load_pem_x509_certificate(f.read()).public_bytes(Encoding.DER)
    expected = "IMP1-" + hashlib.sha256(der).hexdigest()[:16].upper()
    if code != expected:
        fail("%s: label code %s, the certificate of %s gives %s" % (png, code, device, expected))
    with open(os.path.join(device_dir, "secrets.json")) as f:
        secrets = json.load(f)
    held = secrets.get("default_password") or secrets.get("secrets", {}).get("default_password")
    if held is None:
        fail("%s: %s holds no default_password (%s)" % (png, device, sorted(secrets)))
    if password != held:
        fail("%s: the label's password is not the one %s holds" % (png, device))
    if device in seen:
        fail("%s and %s both label %s" % (seen[device], png, device))
    seen[device] = png
if len(seen) != count:
    fail("%d devices labelled, expected %d" % (len(seen), count))
print("labels: %d checked" % len(seen))
