// imprint console: one page, its views chosen by the URL fragment (#/line, #/orders, ...).
// Everything it shows comes from the JSON API under /api/v1/ (docs/console.md) and is put
// into the page as text, never as markup. No external resource, no inline script or style.
"use strict";

const state = { session: null, timer: null };
const POLL_MS = 2000;

// el("td", {class: "x"}, "text", child, ...): an element with attributes and children.
function el(tag, attrs, ...children) {
  const ns = ["svg", "polyline", "line", "text"].includes(tag) ? "http://www.w3.org/2000/svg" : null;
  const node = ns ? document.createElementNS(ns, tag) : document.createElement(tag);
  for (const [key, value] of Object.entries(attrs || {})) {
    if (value === false || value === null || value === undefined) continue;
    if (key.startsWith("on")) node.addEventListener(key.slice(2), value);
    else node.setAttribute(key, value === true ? "" : String(value));
  }
  for (const child of children.flat()) {
    if (child === null || child === undefined) continue;
    node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return node;
}

function showError(message) {
  const box = document.getElementById("error");
  box.textContent = message || "";
  box.hidden = !message;
}

class ApiError extends Error {
  constructor(status, message) { super(message); this.status = status; }
}

async function api(method, path, body) {
  const headers = { "Accept": "application/json" };
  if (body !== undefined) headers["Content-Type"] = "application/json";
  if (method !== "GET" && state.session) headers["X-CSRF-Token"] = state.session.csrf;
  const res = await fetch(path, {
    method, headers, credentials: "same-origin",
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  let data = null;
  try { data = await res.json(); } catch (e) { data = null; }
  if (!res.ok) {
    const message = (data && data.error) || ("HTTP " + res.status);
    if (res.status === 401 && path !== "/api/v1/session") {
      state.session = null;
      location.hash = "#/login";
    }
    throw new ApiError(res.status, message);
  }
  return data;
}

function time(ms) {
  return ms ? new Date(ms).toISOString().replace("T", " ").replace(/\.\d+Z$/, "Z") : "-";
}

function percent(part, whole) {
  return whole > 0 ? Math.floor((100 * part) / whole) : 0;
}

function setMain(...children) {
  const main = document.getElementById("main");
  main.replaceChildren(...children.filter((c) => c !== null && c !== undefined));
}

function stopPolling() {
  if (state.timer) clearTimeout(state.timer);
  state.timer = null;
}

// Runs `load` now and every POLL_MS while the same view stays open.
function poll(view, load) {
  const tick = async () => {
    try {
      await load();
      if (location.hash.startsWith(view)) showError("");
    } catch (e) {
      showError(e.message);
    }
    if (location.hash.startsWith(view)) state.timer = setTimeout(tick, POLL_MS);
  };
  tick();
}

function loginView() {
  const user = el("input", { id: "login-user", name: "user", autocomplete: "username", required: true });
  const password = el("input", { id: "login-password", name: "password", type: "password",
                                 autocomplete: "current-password", required: true });
  const form = el("form", { class: "login", onsubmit: async (event) => {
    event.preventDefault();
    try {
      state.session = await api("POST", "/api/v1/session", { user: user.value, password: password.value });
      showError("");
      location.hash = state.session.must_change ? "#/password" : "#/line";
    } catch (e) {
      showError(e.message);
    }
  } },
  el("label", {}, "User", user), el("label", {}, "Password", password),
  el("button", { id: "login-submit", type: "submit" }, "Log in"));
  setMain(el("h1", {}, "Log in"), form);
}

function passwordView() {
  const current = el("input", { id: "pw-current", type: "password", autocomplete: "current-password", required: true });
  const next = el("input", { id: "pw-new", type: "password", autocomplete: "new-password", required: true, minlength: 12 });
  const again = el("input", { id: "pw-again", type: "password", autocomplete: "new-password", required: true });
  const form = el("form", { class: "login", onsubmit: async (event) => {
    event.preventDefault();
    if (next.value !== again.value) return showError("the two new passwords differ");
    try {
      state.session = await api("POST", "/api/v1/password", { current: current.value, new: next.value });
      showError("");
      location.hash = "#/line";
    } catch (e) {
      showError(e.message);
    }
  } },
  el("label", {}, "Current password", current), el("label", {}, "New password (12 or more characters)", next),
  el("label", {}, "New password again", again), el("button", { id: "pw-submit", type: "submit" }, "Change password"));
  const why = state.session && state.session.must_change
    ? "Your password was a one-time password: choose your own to continue." : "";
  setMain(el("h1", {}, "Change password"), el("p", { class: "notice" }, why), form);
}

// Devices per second per station over the last ten minutes, as an SVG line per station.
function chart(line) {
  const width = 600, height = 200, left = 40, bottom = 20;
  const names = Object.keys(line.stations).sort();
  const perSecond = names.map((n) => line.stations[n].map((c) => c / (line.bucket_ms / 1000)));
  const top = Math.max(1, ...perSecond.flat());
  const svg = el("svg", { class: "chart", id: "chart", viewBox: `0 0 ${width} ${height}`,
                          role: "img", "aria-label": "devices per second per station" });
  svg.append(el("line", { class: "axis", x1: left, y1: height - bottom, x2: width, y2: height - bottom }));
  svg.append(el("line", { class: "axis", x1: left, y1: 0, x2: left, y2: height - bottom }));
  svg.append(el("text", { x: 2, y: 12 }, top.toFixed(1) + "/s"));
  svg.append(el("text", { x: 2, y: height - bottom }, "0"));
  svg.append(el("text", { x: left, y: height - 4 }, "-10 min"));
  svg.append(el("text", { x: width - 30, y: height - 4 }, "now"));
  names.forEach((name, i) => {
    const series = perSecond[i];
    const step = (width - left) / Math.max(1, series.length - 1);
    const points = series.map((v, j) =>
      `${(left + j * step).toFixed(1)},${(height - bottom - (v / top) * (height - bottom - 10)).toFixed(1)}`);
    svg.append(el("polyline", { class: "s" + (i % 6), "data-station": name, points: points.join(" ") }));
  });
  const legend = el("p", { class: "legend" }, names.map((n, i) => {
    const total = line.stations[n].reduce((a, b) => a + b, 0);
    return el("span", { class: "s" + (i % 6) }, `${n}: ${total} in 10 min`);
  }));
  return [svg, legend];
}

function lineView() {
  poll("#/line", async () => {
    const line = await api("GET", "/api/v1/line");
    const rows = line.failures.map((f) => el("tr", { class: "failure" },
      el("td", {}, time(f.time_ms)), el("td", {}, f.station), el("td", {}, f.order),
      el("td", {}, f.device), el("td", {}, f.event), el("td", {}, typeof f.reason === "string" ? f.reason : JSON.stringify(f.reason))));
    setMain(el("h1", {}, "Line now: devices per second, last 10 minutes"), ...chart(line),
      el("h1", {}, "Failures, last 10 minutes"),
      el("table", { id: "failures" }, el("tr", {}, ["Time", "Station", "Order", "Device", "Event", "Reason"].map((h) => el("th", {}, h))), rows),
      rows.length ? null : el("p", { class: "notice", id: "no-failures" }, "No failures."));
  });
}

function orderRow(o) {
  const done = percent(o.verified, o.quota);
  return el("tr", { id: "order-" + o.id, "data-percent": done },
    el("td", {}, el("a", { href: "#/orders/" + encodeURIComponent(o.id) }, o.id)),
    el("td", {}, o.product), el("td", { class: "status-" + o.status }, o.status),
    el("td", {}, el("progress", { max: o.quota, value: o.verified }), " ", el("span", { class: "percent" }, done + "%")),
    el("td", {}, `${o.issued} / ${o.quota}`), el("td", {}, o.verified), el("td", {}, o.failed),
    el("td", {}, o.revoked), el("td", {}, o.stations.join(", ")));
}

const ORDER_HEADER = ["Order", "Product", "Status", "Progress (verified)", "Issued / quota", "Verified", "Failed", "Revoked", "Stations"];

function ordersView() {
  poll("#/orders", async () => {
    const orders = await api("GET", "/api/v1/orders");
    setMain(el("h1", {}, "Orders"), el("table", { id: "orders" },
      el("tr", {}, ORDER_HEADER.map((h) => el("th", {}, h))), orders.map(orderRow)));
  });
}

function orderView(id) {
  const search = el("input", { id: "device-search", type: "search", placeholder: "device id starts with",
                               oninput: () => refresh() });
  const close = el("button", { id: "close-order", type: "button", onclick: async () => {
    try {
      await api("POST", "/api/v1/orders/" + encodeURIComponent(id) + "/close");
      showError("");
      await refresh();
    } catch (e) {
      showError(e.message);
    }
  } }, "Close order");
  const summary = el("table", { id: "order-summary" });
  const devices = el("table", { id: "devices" });
  const more = el("p", { class: "notice" });
  const revoke = (device) => async () => {
    const reason = prompt("Reason (key-compromise, superseded, cessation-of-operation, ...)", "key-compromise");
    if (!reason) return;
    try {
      await api("POST", "/api/v1/devices/" + encodeURIComponent(device) + "/revoke", { reason });
      await refresh();
    } catch (e) {
      showError(e.message);
    }
  };
  async function refresh() {
    const q = search.value.trim();
    const order = await api("GET", "/api/v1/orders/" + encodeURIComponent(id) + (q ? "?q=" + encodeURIComponent(q) : ""));
    summary.replaceChildren(el("tr", {}, ORDER_HEADER.map((h) => el("th", {}, h))), orderRow(order));
    const operator = state.session && state.session.role === "operator";
    devices.replaceChildren(
      el("tr", {}, ["Device", "Station", "Serial", "Status", "Issued", "Reported", "Label", ""].map((h) => el("th", {}, h))),
      ...order.devices.map((d) => el("tr", { class: "device-row", "data-device": d.id },
        el("td", {}, d.id), el("td", {}, d.station), el("td", { class: "mono" }, d.serial),
        el("td", { class: "status-" + d.status }, d.status + (d.revocation_reason ? " (" + d.revocation_reason + ")" : "")),
        el("td", {}, time(d.issued_ms)), el("td", {}, time(d.reported_ms)),
        el("td", { class: "mono label-code" }, d.label || "not bound"),
        el("td", {}, operator && d.status !== "revoked"
          ? el("button", { type: "button", class: "revoke", onclick: revoke(d.id) }, "Revoke") : ""))));
    more.textContent = order.more ? "More devices match: type more of the id." : "";
    close.hidden = order.status !== "open";
  }
  setMain(el("h1", {}, "Order " + id), summary, el("p", {}, close), el("label", {}, "Find a device ", search),
          devices, more);
  poll("#/orders/", refresh);
}

function stationsView() {
  poll("#/stations", async () => {
    const stations = await api("GET", "/api/v1/stations");
    setMain(el("h1", {}, "Stations"), el("table", { id: "stations" },
      el("tr", {}, ["Station", "Status", "Enrolled", "Last seen", "Devices last minute", "Failed", "Revoked"].map((h) => el("th", {}, h))),
      stations.map((s) => el("tr", { id: "station-" + s.name },
        el("td", {}, s.name), el("td", {}, s.status), el("td", {}, time(s.enrolled_ms)),
        el("td", {}, time(s.last_seen_ms)), el("td", {}, s.devices_last_minute),
        el("td", {}, s.failed), el("td", {}, s.revoked)))));
  });
}

function auditView() {
  poll("#/audit", async () => {
    const a = await api("GET", "/api/v1/audit");
    const v = a.last_verification;
    const verdict = !v ? el("span", {}, "not yet run")
      : v.ok ? el("span", { class: "ok", id: "verification" }, `verified ${v.records} records at ${time(v.time_ms)}`)
             : el("span", { class: "bad", id: "verification" }, `FAILED at ${time(v.time_ms)}: ${v.error}`);
    setMain(el("h1", {}, "Audit log"), el("dl", { class: "facts", id: "audit" },
      el("dt", {}, "Chain head"), el("dd", {}, `record ${a.head_seq} at ${time(a.head_time_ms)}`),
      el("dt", {}, "Head hash"), el("dd", { class: "mono" }, a.head_hash),
      el("dt", {}, "Last checkpoint"), el("dd", {}, `seals record ${a.checkpoint_seq}, signed ${time(a.checkpoint_time_ms)}`),
      el("dt", {}, "Last full verification"), el("dd", {}, verdict)));
  });
}

async function route() {
  stopPolling();
  const hash = location.hash || "#/line";
  if (!state.session && hash !== "#/login") {
    try {
      state.session = await api("GET", "/api/v1/session");
    } catch (e) {
      state.session = null;
    }
  }
  const nav = document.getElementById("nav");
  nav.hidden = !state.session || state.session.must_change;
  document.getElementById("who").textContent = state.session ? `${state.session.user} (${state.session.role})` : "";
  for (const a of nav.querySelectorAll("a")) a.classList.toggle("active", hash.startsWith(a.getAttribute("href")));
  if (!state.session) return loginView();
  if (state.session.must_change) return passwordView();
  if (hash === "#/login") { location.hash = "#/line"; return; }
  if (hash === "#/password") return passwordView();
  if (hash.startsWith("#/orders/")) return orderView(decodeURIComponent(hash.slice("#/orders/".length)));
  if (hash === "#/orders") return ordersView();
  if (hash === "#/stations") return stationsView();
  if (hash === "#/audit") return auditView();
  return lineView();
}

document.getElementById("logout").addEventListener("click", async () => {
  try { await api("DELETE", "/api/v1/session"); } catch (e) { /* gone already */ }
  state.session = null;
  location.hash = "#/login";
  route();
});
window.addEventListener("hashchange", route);
route();
