// The supervisor's console in a real browser (Debian's Chromium, headless, through
// playwright-core): log in with a one-time password and change it, watch an order reach 100%
// while a line of 200 devices runs, find one device, see a misbehaving device's failure
// appear, and find that a viewer cannot close an order. Every wait is for a condition on the
// page; a screenshot of each page goes to $SCREENSHOTS. Started by browser_test.sh, which
// sets up the CA and the line and passes everything in the environment.
import { spawn } from "node:child_process";
import { chromium } from "playwright-core";

const env = (name) => {
  const value = process.env[name];
  if (!value) throw new Error(`${name} is not set`);
  return value;
};
const url = env("CONSOLE_URL");
const shots = env("SCREENSHOTS");
const LINE_TIMEOUT_MS = 180_000;
const STEP_TIMEOUT_MS = 30_000;

function run(command) {
  return new Promise((resolve) => {
    const child = spawn("bash", ["-c", command], { stdio: ["ignore", "pipe", "pipe"] });
    let output = "";
    child.stdout.on("data", (d) => { output += d; });
    child.stderr.on("data", (d) => { output += d; });
    child.on("exit", (code) => resolve({ code, output }));
  });
}

async function shot(page, name) {
  await page.screenshot({ path: `${shots}/${name}.png`, fullPage: true });
  console.log(`screenshot ${name}.png`);
}

async function login(page, user, oneTime, chosen) {
  await page.goto(url + "/");
  await page.waitForSelector("#login-user");
  await page.fill("#login-user", user);
  await page.fill("#login-password", oneTime);
  await page.click("#login-submit");
  await page.waitForSelector("#pw-current");  // a one-time password must be replaced first
  await page.fill("#pw-current", oneTime);
  await page.fill("#pw-new", chosen);
  await page.fill("#pw-again", chosen);
  await page.click("#pw-submit");
  await page.waitForSelector("#chart");
}

const browser = await chromium.launch({
  executablePath: "/usr/bin/chromium",
  headless: true,
  // Trust exactly the CA's TLS key (its SubjectPublicKeyInfo hash), nothing else.
  args: [`--ignore-certificate-errors-spki-list=${env("TLS_SPKI_SHA256")}`, "--no-sandbox"],
});
const failures = [];
let current = null;  // the page a failure's screenshot shows
const check = (ok, what) => {
  console.log(`${ok ? "ok" : "FAIL"}: ${what}`);
  if (!ok) failures.push(what);
};

try {
  const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
  const page = await context.newPage();
  page.setDefaultTimeout(STEP_TIMEOUT_MS);
  const consoleErrors = [];
  // Script errors only: an expected 401 (no session yet, a wrong password) is logged by the
  // browser as a failed resource load, which is not the page's fault.
  page.on("console", (m) => {
    if (m.type() === "error" && !m.text().startsWith("Failed to load resource")) consoleErrors.push(m.text());
  });
  page.on("pageerror", (e) => consoleErrors.push(String(e)));
  current = page;

  // A wrong password is refused on the page.
  await page.goto(url + "/");
  await page.waitForSelector("#login-user");
  await shot(page, "01-login");
  await page.fill("#login-user", "olga");
  await page.fill("#login-password", "not her password");
  await page.click("#login-submit");
  await page.waitForSelector("#error:has-text('wrong user name or password')");

  // The operator logs in with her one-time password and chooses her own.
  await page.goto(url + "/");
  await page.fill("#login-user", "olga");
  await page.fill("#login-password", env("OPERATOR_PASSWORD"));
  await page.click("#login-submit");
  await page.waitForSelector("#pw-current");
  await shot(page, "02-change-password");
  await page.fill("#pw-current", env("OPERATOR_PASSWORD"));
  await page.fill("#pw-new", "operator's own passphrase");
  await page.fill("#pw-again", "operator's own passphrase");
  await page.click("#pw-submit");
  await page.waitForSelector("#chart");
  const cookies = await context.cookies();
  const session = cookies.find((c) => c.name === "imprint_session");
  check(session && session.httpOnly && session.secure && session.sameSite === "Strict",
        "the session cookie is HttpOnly, Secure and SameSite=Strict");

  // The orders page while the line runs: PO-1 goes to 100%.
  await page.goto(url + "/#/orders");
  await page.waitForSelector("#order-PO-1");
  await shot(page, "03-orders-before");
  const line = run(env("PROVISION_LINE"));
  await page.waitForSelector("#order-PO-1[data-percent='100']", { timeout: LINE_TIMEOUT_MS });
  const lineResult = await line;
  check(lineResult.code === 0, "the line of 200 devices provisioned (station exit 0)");
  check((await page.textContent("#order-PO-1 .percent")) === "100%", "PO-1 shows 100%");
  await shot(page, "04-orders-done");

  // Line now: the station's curve.
  await page.goto(url + "/#/line");
  await page.waitForSelector("#chart polyline[data-station='line-1']");
  await shot(page, "05-line-now");

  // One device found by its id.
  const wanted = env("FIND_DEVICE");
  await page.goto(url + "/#/orders/PO-1");
  await page.waitForSelector("#devices .device-row");
  await page.fill("#device-search", wanted);
  await page.waitForFunction(
    (id) => {
      const rows = document.querySelectorAll("#devices .device-row");
      return rows.length === 1 && rows[0].dataset.device === id;
    }, wanted);
  check((await page.textContent(`#devices .device-row[data-device='${wanted}']`)).includes("verified"),
        `device ${wanted} found, verified`);
  await shot(page, "06-order-device-search");

  // A misbehaving device: its failure appears on the line page as it happens.
  await page.goto(url + "/#/line");
  await page.waitForSelector("#chart");
  const bad = await run(env("PROVISION_MISBEHAVING"));
  check(bad.code !== 0, "the station reports the misbehaving device as failed");
  await page.waitForSelector(`#failures tr.failure:has-text('${env("BAD_DEVICE")}')`);
  check((await page.textContent("#failures")).includes("device.failed"), "the failure names its event");
  await shot(page, "07-line-failure");

  await page.goto(url + "/#/stations");
  await page.waitForSelector("#station-line-1");
  await shot(page, "08-stations");
  await page.goto(url + "/#/audit");
  await page.waitForSelector("#verification.ok");
  await shot(page, "09-audit");
  check(consoleErrors.length === 0, "no script errors in the browser: " + consoleErrors.join("; "));

  // A viewer cannot close an order.
  const viewerContext = await browser.newContext({ viewport: { width: 1280, height: 900 } });
  const viewer = await viewerContext.newPage();
  current = viewer;
  viewer.setDefaultTimeout(STEP_TIMEOUT_MS);
  await login(viewer, "victor", env("VIEWER_PASSWORD"), "viewer's own passphrase");
  await viewer.goto(url + "/#/orders/PO-2");
  await viewer.waitForSelector("#close-order");
  await viewer.click("#close-order");
  await viewer.waitForSelector("#error:has-text('operator role required')");
  await shot(viewer, "10-viewer-refused");
  const po2 = await viewer.evaluate(async () => {
    const res = await fetch("/api/v1/orders/PO-2");
    return (await res.json()).status;
  });
  check(po2 === "open", "PO-2 is still open after the viewer's attempt");
} catch (e) {
  failures.push(String(e && e.stack || e));
  console.log("FAIL: " + (e && e.stack || e));
  if (current) {
    await shot(current, "failure").catch(() => {});
    console.log("page text: " + (await current.textContent("body").catch(() => "?")));
  }
} finally {
  await browser.close();
}
if (failures.length) {
  console.log(`${failures.length} failure(s)`);
  process.exit(1);
}
console.log("console browser test passed");
