// A supervisor watching the line: Debian's Chromium (headless, playwright-core) logged in to
// the console on the "line now" page, which polls the API every 2 seconds, until SIGTERM.
// Prints "watching" once the page shows the chart. For scripts/bench.sh's console figures.
// Usage: node console_watch.mjs URL USER ONE_TIME_PASSWORD TLS_SPKI_SHA256
import { chromium } from "playwright-core";

const [url, user, oneTime, spki] = process.argv.slice(2);
const browser = await chromium.launch({
  executablePath: "/usr/bin/chromium",
  headless: true,
  args: [`--ignore-certificate-errors-spki-list=${spki}`, "--no-sandbox"],
});
const page = await browser.newPage();
await page.goto(url + "/");
await page.fill("#login-user", user);
await page.fill("#login-password", oneTime);
await page.click("#login-submit");
await page.waitForSelector("#pw-current");
await page.fill("#pw-current", oneTime);
await page.fill("#pw-new", "bench watcher passphrase");
await page.fill("#pw-again", "bench watcher passphrase");
await page.click("#pw-submit");
await page.waitForSelector("#chart");
console.log("watching");
await new Promise((resolve) => process.on("SIGTERM", resolve));
await browser.close();
