// The independent Matter check of a provisioned line (tests/matter/matter_line_test.sh): for
// every device, with matter.js (pinned in package-lock.json) and nothing of imprint's:
// - the DAC, PAI and a fresh attestation (nonce and challenge chosen by the test) accepted by
//   DeviceAttestationValidator.validate, the test PAA as trust anchor and the CD's signer known;
// - the device's SPAKE2+ verifier equal to Spake2p.computeW0L of the label's passcode and the
//   device's salt and iterations;
// - the label's QR payload and manual code decoded by QrPairingCodeCodec and
//   ManualPairingCodeCodec to that passcode, discriminator, vendor and product id.
// Usage: node check_devices.mjs PAA_PEM CD_SIGNER_PEM LABELS_JSONL DEVICES_DIR ATTESTATIONS_JSONL
// Prints one line per device that fails and a summary; exits 1 on any failure.
import { X509Certificate } from "node:crypto";
import { readFileSync, readdirSync } from "node:fs";
import { Bytes, Spake2p, StandardCrypto } from "@matter/general";
import { DeviceAttestationValidator, Paa, Pai, Dac } from "@matter/protocol";
import { ManualPairingCodeCodec, QrPairingCodeCodec } from "@matter/types";

const [paaPath, signerPath, labelsPath, devicesDir, attestationsPath] = process.argv.slice(2);
const crypto = new StandardCrypto();

function pemBlocks(text) {
  return [...text.matchAll(/-----BEGIN CERTIFICATE-----([^-]+)-----END CERTIFICATE-----/g)].map(
    (m) => Buffer.from(m[1].replace(/\s+/g, ""), "base64"),
  );
}
const b64 = (s) => Buffer.from(s, "base64");
const lines = (path) =>
  readFileSync(path, "utf8").split("\n").filter((l) => l.trim()).map((l) => JSON.parse(l));

const paaDer = pemBlocks(readFileSync(paaPath, "utf8"))[0];
const paa = Paa.fromAsn1(paaDer);
const signerDer = pemBlocks(readFileSync(signerPath, "utf8"))[0];
const signerPublicKey = new X509Certificate(signerDer).publicKey.export({ format: "der", type: "spki" });
// The CD signer's public key as matter.js wants it: the uncompressed point (the SPKI's tail).
const signerPoint = new Uint8Array(signerPublicKey.subarray(signerPublicKey.length - 65));

// An offline DCL: one trusted (test) PAA and one CD signer, nothing revoked.
const dcl = {
  acceptsTestCertificates: true,
  getCertificate: (akid) =>
    Bytes.areEqual(akid, paa.cert.extensions.subjectKeyIdentifier) ? { isProduction: false } : undefined,
  getCertificateAsDer: async () => paaDer,
  isRevoked: async () => false,
  getOrFetchCdSigner: async () => ({ publicKey: signerPoint }),
};

// The last label line of each device is its valid one (factory_station/labels/records.h).
const labels = new Map();
for (const l of lines(labelsPath)) labels.set(l.device_id, l);
const attestations = new Map();
for (const a of lines(attestationsPath)) attestations.set(a.device_id, a);

let failures = 0;
let checked = 0;
const passcodes = new Set();
const fail = (id, why) => {
  failures++;
  console.log(`FAIL ${id}: ${why}`);
};
for (const id of readdirSync(devicesDir).sort()) {
  const dir = `${devicesDir}/${id}`;
  let secrets;
  try {
    secrets = JSON.parse(readFileSync(`${dir}/secrets.json`, "utf8"));
  } catch {
    continue; // not provisioned (a hostile device of the test)
  }
  const label = labels.get(id);
  const attestation = attestations.get(id);
  if (!label || !attestation) {
    fail(id, "no label or no attestation");
    continue;
  }
  checked++;
  const dacDer = pemBlocks(readFileSync(`${dir}/certificate.pem`, "utf8"))[0];
  const chain = pemBlocks(readFileSync(`${dir}/chain.pem`, "utf8"));
  const vid = parseInt(secrets.matter_vendor_id, 16);
  const pid = parseInt(secrets.matter_product_id, 16);
  try {
    const { findings } = await DeviceAttestationValidator.validate(
      { crypto, dclCertificateService: dcl, attestationChallenge: Buffer.from(attestation.challenge, "hex") },
      {
        dac: dacDer,
        pai: chain[0],
        attestationElements: b64(attestation.attestation_elements),
        attestationNonce: Buffer.from(attestation.nonce, "hex"),
        attestationSignature: b64(attestation.signature),
        vendorId: vid,
        productId: pid,
      },
    );
    const errors = findings.filter((f) => f.level === "error");
    if (errors.length) fail(id, `attestation findings: ${JSON.stringify(errors)}`);
    if (!Bytes.areEqual(b64(attestation.certificate), dacDer)) fail(id, "attested with another DAC");
    Dac.fromAsn1(dacDer);
    Pai.fromAsn1(chain[0]);
  } catch (e) {
    fail(id, `DeviceAttestationValidator: ${e.failure ?? ""} ${e.message}`);
  }

  const passcode = Number(label.matter_passcode);
  if (passcodes.has(passcode)) fail(id, "passcode repeated within the order");
  passcodes.add(passcode);
  const { w0, L } = await Spake2p.computeW0L(
    crypto,
    { iterations: Number(secrets.matter_iterations), salt: b64(secrets.matter_salt) },
    passcode,
  );
  const expected = Buffer.concat([Buffer.from(Bytes.fromBigInt(w0, 32)), Buffer.from(L)]);
  if (!expected.equals(b64(secrets.matter_verifier))) fail(id, "verifier differs from computeW0L");

  const discriminator = Number(secrets.matter_discriminator);
  try {
    const [qr] = QrPairingCodeCodec.decode(label.matter_qr_payload);
    if (qr.passcode !== passcode || qr.discriminator !== discriminator || qr.vendorId !== vid ||
        qr.productId !== pid) {
      fail(id, `QR payload decodes to ${JSON.stringify(qr)}`);
    }
    const manual = ManualPairingCodeCodec.decode(label.matter_manual_code);
    if (manual.passcode !== passcode || manual.shortDiscriminator !== discriminator >> 8) {
      fail(id, `manual code decodes to ${JSON.stringify(manual)}`);
    }
  } catch (e) {
    fail(id, `onboarding codes do not decode: ${e.message}`);
  }
  if (label.matter_discriminator !== discriminator) fail(id, "label and device discriminators differ");
}
console.log(`matter.js checked ${checked} devices, ${failures} failures`);
process.exit(failures === 0 && checked > 0 ? 0 : 1);
