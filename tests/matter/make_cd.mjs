// Writes a Certification Declaration made by matter.js (the CSA's test CD signing key, as
// matter.js carries it) and that signer's certificate: the CD a vendor receives, made by a
// stack nobody here wrote. Usage: node make_cd.mjs VID PID CD_DER_OUT SIGNER_PEM_OUT (hex ids).
import { writeFileSync } from "node:fs";
import { StandardCrypto } from "@matter/general";
import { CertificationDeclaration } from "@matter/protocol";

const [vid, pid, cdOut, signerOut] = process.argv.slice(2);
const crypto = new StandardCrypto();
const cd = await CertificationDeclaration.generate(crypto, parseInt(vid, 16), parseInt(pid, 16));
writeFileSync(cdOut, Buffer.from(cd));
const der = Buffer.from(CertificationDeclaration.testSignerCertificate());
const b64 = der.toString("base64").match(/.{1,64}/g).join("\n");
writeFileSync(signerOut, `-----BEGIN CERTIFICATE-----\n${b64}\n-----END CERTIFICATE-----\n`);
