// node check_labels.mjs SCANS LABELS_JSONL DEVICES_DIR: the printed Matter labels as a scanner
// reads them, decoded by matter.js. SCANS has one line per rendered label: the device id, the
// QR text and the Code 128 text zbarimg read from it. Each QR must decode (QrPairingCodeCodec)
// to the passcode the station recorded for that device (whose verifier check_devices.mjs
// checks against the device) and to the discriminator the device itself holds; each device
// labelled once.
import { readFileSync } from "node:fs";
import { QrPairingCodeCodec } from "@matter/types";

const [scansPath, labelsPath, devicesDir] = process.argv.slice(2);
const records = new Map();
for (const line of readFileSync(labelsPath, "utf8").split("\n").filter((l) => l.trim())) {
  const r = JSON.parse(line);
  if (r.matter_qr_payload) records.set(r.device_id, r);
}
let failures = 0;
const fail = (id, why) => {
  console.error(`FAIL ${id}: ${why}`);
  failures++;
};
const seen = new Set();
for (const line of readFileSync(scansPath, "utf8").split("\n").filter((l) => l.trim())) {
  const [id, qrText, code] = line.split("\t");
  if (seen.has(id)) fail(id, "labelled twice");
  seen.add(id);
  const record = records.get(id);
  if (!record) {
    fail(id, "no label record");
    continue;
  }
  if (!/^IMP1-[0-9A-F]{16}$/.test(code ?? "")) fail(id, "no label code read back");
  const secrets = JSON.parse(readFileSync(`${devicesDir}/${id}/secrets.json`, "utf8"));
  try {
    const [qr] = QrPairingCodeCodec.decode(qrText);
    if (qr.passcode !== Number(record.matter_passcode)) fail(id, "the printed QR carries another passcode");
    if (qr.discriminator !== Number(secrets.matter_discriminator)) {
      fail(id, "the printed QR carries another discriminator than the device holds");
    }
  } catch (e) {
    fail(id, `the printed QR does not decode: ${e.message}`);
  }
}
console.log(`matter.js read ${seen.size} printed labels, ${failures} failures`);
process.exit(failures === 0 && seen.size > 0 ? 0 : 1);
