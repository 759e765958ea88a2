#!/usr/bin/python3
"""Independent verifier for an imprint audit export, written from docs/audit-format.md.

Usage: verify_audit_export.py EXPORT.jsonl AUDIT_KEY.pem [ANCHOR.json]
Exit 0 when the log verifies (and, with ANCHOR.json, holds that anchor's checkpoint);
1 with "bad seq N: reason" on the first violation.
"""
import hashlib
import json
import struct
import sys

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa

RECORD_CONTEXT = b"imprint-audit-v1\x00"
CHECKPOINT_CONTEXT = b"imprint-audit-checkpoint-v2\x00"
ZEROS = bytes(32)


class Bad(Exception):
    def __init__(self, seq, reason):
        super().__init__(f"bad seq {seq}: {reason}")


def field(text):
    data = text.encode("utf-8")
    return struct.pack(">I", len(data)) + data


def record_hash(r):
    message = (RECORD_CONTEXT + struct.pack(">Q", r["seq"]) + struct.pack(">q", r["time_ms"])
               + field(r["actor"]) + field(r["event"]) + field(r["detail"])
               + bytes.fromhex(r["prev_hash"]))
    return hashlib.sha256(message).digest()


def checkpoint_message(c):
    return (CHECKPOINT_CONTEXT + struct.pack(">Q", c["seq"]) + bytes.fromhex(c["hash"])
            + struct.pack(">Q", c["prev_seq"]) + bytes.fromhex(c["prev_hash"])
            + struct.pack(">q", c["time_ms"]))


def checkpoint_hash(c):
    return hashlib.sha256(checkpoint_message(c)).digest()


def check_signature(key, c):
    # The audit key has the CA's key type: ECDSA with SHA-256 (P-256), SHA-384 (P-384), or
    # RSA PKCS#1 v1.5 with SHA-256 (RSA-3072) (docs/audit-format.md, "Checkpoints").
    signature, message = bytes.fromhex(c["signature"]), checkpoint_message(c)
    try:
        if isinstance(key, rsa.RSAPublicKey):
            key.verify(signature, message, padding.PKCS1v15(), hashes.SHA256())
        else:
            digest = hashes.SHA384() if key.curve.name == "secp384r1" else hashes.SHA256()
            key.verify(signature, message, ec.ECDSA(digest))
    except InvalidSignature:
        raise Bad(c["seq"], "checkpoint signature does not verify")


class Log:
    def __init__(self, key):
        self.key = key
        spki = key.public_bytes(serialization.Encoding.DER,
                                serialization.PublicFormat.SubjectPublicKeyInfo)
        self.key_fingerprint = hashlib.sha256(spki).hexdigest()
        self.last_seq, self.head = 0, ZEROS
        self.records = 0
        self.checkpoints = {}  # seq -> checkpoint hash
        self.last_cp = None

    def record(self, r):
        if r["seq"] != self.last_seq + 1:
            raise Bad(self.last_seq + 1, "missing or out of order")
        if bytes.fromhex(r["prev_hash"]) != self.head:
            raise Bad(r["seq"], "does not link to its predecessor")
        digest = record_hash(r)
        if digest.hex() != r["hash"]:
            raise Bad(r["seq"], "content does not match its hash")
        if r["seq"] == 1:
            detail = json.loads(r["detail"])
            if r["event"] != "audit.genesis" or detail.get("format") != "imprint-audit-v2":
                raise Bad(1, "the log does not start with a genesis record")
            if detail.get("audit_key_spki_sha256") != self.key_fingerprint:
                raise Bad(1, "the genesis record names another audit key")
        self.last_seq, self.head = r["seq"], digest
        self.records += 1

    def checkpoint(self, c):
        if c["seq"] > self.last_seq or c["seq"] == 0:
            raise Bad(self.last_seq + 1, "missing, but a checkpoint seals past it")
        if c["seq"] != self.last_seq or bytes.fromhex(c["hash"]) != self.head:
            raise Bad(c["seq"], "checkpoint does not match the chain")
        if self.last_cp is None:
            if c["seq"] != 1:
                raise Bad(1, "genesis record is not sealed by the first checkpoint")
            if c["prev_seq"] != 0 or bytes.fromhex(c["prev_hash"]) != ZEROS:
                raise Bad(1, "the first checkpoint names a predecessor")
        elif c["prev_seq"] != self.last_cp["seq"] or \
                bytes.fromhex(c["prev_hash"]) != checkpoint_hash(self.last_cp):
            raise Bad(c["seq"], "checkpoint chain broken")
        check_signature(self.key, c)
        self.checkpoints[c["seq"]] = checkpoint_hash(c)
        self.last_cp = c

    def finish(self):
        if self.records == 0:
            raise Bad(1, "the log is empty")
        if self.last_cp is None:
            raise Bad(1, "genesis record is not sealed")


def main():
    if len(sys.argv) not in (3, 4):
        print(__doc__)
        return 2
    with open(sys.argv[2], "rb") as f:
        key = serialization.load_pem_public_key(f.read())
    log = Log(key)
    anchor = None
    try:
        if len(sys.argv) == 4:
            with open(sys.argv[3], encoding="utf-8") as f:
                anchor = json.loads(f.read())
            check_signature(key, anchor)
        with open(sys.argv[1], encoding="utf-8") as f:
            for line in f:
                entry = json.loads(line)
                if entry["type"] == "record":
                    log.record(entry)
                elif entry["type"] == "checkpoint":
                    log.checkpoint(entry)
                else:
                    raise Bad(log.last_seq + 1, "unknown line type")
        log.finish()
        if anchor is not None and log.checkpoints.get(anchor["seq"]) != checkpoint_hash(anchor):
            raise Bad(anchor["seq"], "the log does not hold the anchor's checkpoint")
    except Bad as e:
        print(e)
        return 1
    unsealed = log.last_seq - log.last_cp["seq"]
    print(f"OK {log.records} records, {len(log.checkpoints)} checkpoints, {unsealed} unsealed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
