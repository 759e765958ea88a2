"""A re-enrollment request as RFC 7030 4.2.2 wants it, made with python3-cryptography: the
subject and subjectAltName of CERT copied exactly, signed by KEY (a PEM private key; with
--new-key, a new P-256 key is made and written there first). Writes the DER CSR to OUT.
Usage: renewal_csr.py CERT KEY OUT [--new-key] [--subject-cn CN]"""
import sys

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtensionOID, NameOID


def main():
    cert_path, key_path, out = sys.argv[1:4]
    cert = x509.load_pem_x509_certificate(open(cert_path, "rb").read())
    if "--new-key" in sys.argv:
        key = ec.generate_private_key(ec.SECP256R1())
        open(key_path, "wb").write(key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption()))
    else:
        key = serialization.load_pem_private_key(open(key_path, "rb").read(), None)
    subject = cert.subject
    if "--subject-cn" in sys.argv:
        cn = sys.argv[sys.argv.index("--subject-cn") + 1]
        subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, cn)])
    builder = x509.CertificateSigningRequestBuilder().subject_name(subject)
    try:
        san = cert.extensions.get_extension_for_oid(ExtensionOID.SUBJECT_ALTERNATIVE_NAME)
        builder = builder.add_extension(san.value, critical=san.critical)
    except x509.ExtensionNotFound:
        pass
    csr = builder.sign(key, hashes.SHA256())
    open(out, "wb").write(csr.public_bytes(serialization.Encoding.DER))


if __name__ == "__main__":
    main()
