#!/usr/bin/python3
"""Independent verifier for an imprint audit export, written from docs/audit-format.md.

Usage: verify_audit_export.py EXPORT.jsonl AUDIT_KEY.pem
Exit 0 when the log verifies; 1 with "bad seq N: reason" on the first violation.
"""
import hashlib
import json
import struct
import sys

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec

RECORD_CONTEXT = b"imprint-audit-v1\x00"
CHECKPOINT_CONTEXT = b"imprint-audit-checkpoint-v1\x00"


def field(text):
    data = text.encode("utf-8")
    return struct.pack(">I", len(data)) + data


def record_hash(r):
    message = (RECORD_CONTEXT + struct.pack(">Q", r["seq"]) + struct.pack(">q", r["time_ms"])
               + field(r["actor"]) + field(r["event"]) + field(r["detail"])
               + bytes.fromhex(r["prev_hash"]))
    return hashlib.sha256(message).digest()


def main():
    export_path, key_path = sys.argv[1], sys.argv[2]
    with open(key_path, "rb") as f:
        key = serialization.load_pem_public_key(f.read())
    last_seq, head = 0, bytes(32)
    records = checkpoints = 0
    with open(export_path, encoding="utf-8") as f:
        for line in f:
            entry = json.loads(line)
            if entry["type"] == "record":
                if entry["seq"] != last_seq + 1:
                    return fail(last_seq + 1, "missing or out of order")
                if bytes.fromhex(entry["prev_hash"]) != head:
                    return fail(entry["seq"], "does not link to its predecessor")
                digest = record_hash(entry)
                if digest.hex() != entry["hash"]:
                    return fail(entry["seq"], "content does not match its hash")
                last_seq, head = entry["seq"], digest
                records += 1
            elif entry["type"] == "checkpoint":
                if entry["seq"] > last_seq or entry["seq"] == 0:
                    return fail(last_seq + 1, "missing, but a checkpoint seals past it")
                if entry["seq"] != last_seq or bytes.fromhex(entry["hash"]) != head:
                    return fail(entry["seq"], "checkpoint does not match the chain")
                message = CHECKPOINT_CONTEXT + struct.pack(">Q", entry["seq"]) + head
                try:
                    key.verify(bytes.fromhex(entry["signature"]), message,
                               ec.ECDSA(hashes.SHA256()))
                except InvalidSignature:
                    return fail(entry["seq"], "checkpoint signature does not verify")
                checkpoints += 1
            else:
                return fail(last_seq + 1, "unknown line type")
    print(f"OK {records} records, {checkpoints} checkpoints")
    return 0


def fail(seq, reason):
    print(f"bad seq {seq}: {reason}")
    return 1


if __name__ == "__main__":
    sys.exit(main())
