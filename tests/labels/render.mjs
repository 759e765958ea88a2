// node render.mjs OUT_DIR LABEL.zpl...: each ZPL label rendered to OUT_DIR/<name>.png by
// zpl-renderer-js (zebrash compiled to WebAssembly), 100 x 50 mm at 8 dots/mm.
import { ready } from "zpl-renderer-js";
import { readFileSync, writeFileSync } from "node:fs";
import { basename, join } from "node:path";

const [outDir, ...labels] = process.argv.slice(2);
const { api } = await ready;
for (const path of labels) {
  const png = await api.zplToBase64Async(readFileSync(path, "utf8"), 100, 50, 8);
  writeFileSync(join(outDir, basename(path).replace(/\.zpl$/, "") + ".png"), Buffer.from(png, "base64"));
}
