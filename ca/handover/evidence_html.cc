// evidence.html: the evidence pack for an assessor's browser. One file, styles inline, no
// script and no external resource (factory and lab networks are often offline).

#include "ca/handover/evidence.h"

namespace imprint::ca {
namespace {

std::string Escape(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (char c : text) {
    switch (c) {
      case '&':
        out += "&amp;";
        break;
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '"':
        out += "&quot;";
        break;
      case '\'':
        out += "&#39;";
        break;
      default:
        out += c;
    }
  }
  return out;
}

std::string Text(const nlohmann::json& value) {
  return Escape(value.is_string() ? value.get<std::string>() : value.dump());
}

std::string VerdictCell(const nlohmann::json& verdict) {
  std::string v = verdict.get<std::string>();
  std::string cls = v == "PASS" ? "pass" : v == "FAIL" ? "fail" : "na";
  return "<td class=\"" + cls + "\">" + Escape(v) + "</td>";
}

// Nested facts as a definition table, one row per leaf.
void FactRows(const nlohmann::json& facts, const std::string& prefix, std::string& out) {
  for (const auto& [key, value] : facts.items()) {
    std::string name = prefix.empty() ? key : prefix + "." + key;
    if (value.is_object()) {
      FactRows(value, name, out);
    } else {
      out += "<tr><th>" + Escape(name) + "</th><td>" + Text(value) + "</td></tr>\n";
    }
  }
}

}  // namespace

std::string EvidenceHtml(const nlohmann::json& e) {
  const auto& order = e["order"];
  std::string out =
      "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\n"
      "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; style-src "
      "'unsafe-inline'\">\n<title>Evidence: order " +
      Text(order["id"]) +
      "</title>\n<style>\n"
      "body{font-family:sans-serif;margin:2em;max-width:75em;color:#222}\n"
      "table{border-collapse:collapse;margin:1em 0;width:100%}\n"
      "th,td{border:1px solid #bbb;padding:.3em .6em;text-align:left;vertical-align:top}\n"
      "th{background:#f0f0f0;font-weight:normal}\n"
      ".pass{background:#d8f5d8;font-weight:bold}.fail{background:#f8d0d0;font-weight:bold}"
      ".na{background:#eee}\n</style></head><body>\n";
  out += "<h1>Evidence pack: order " + Text(order["id"]) + "</h1>\n";
  out += "<p>Overall verdict: <strong>" + Text(e["verdict"]) + "</strong>. Generated " +
         Text(e["generated"]) + " by imprint " + Text(e["software"]["version"]) +
         " from the CA's store, token and audit log. The signed copy of these facts is "
         "evidence.json; evidence.sig.json signs both files.</p>\n";
  out += "<table>\n";
  for (const char* key :
       {"product", "status", "quota", "organization", "first_issued", "last_issued"}) {
    out += "<tr><th>" + Escape(key) + "</th><td>" + Text(order[key]) + "</td></tr>\n";
  }
  out +=
      "</table>\n<h2>ETSI EN 303 645 provisions</h2>\n<table>\n"
      "<tr><th>Provision</th><th>Text</th><th>Verdict</th><th>Because</th></tr>\n";
  for (const auto& p : e["provisions"]) {
    out += "<tr><td>" + Text(p["id"]) + "</td><td>" + Text(p["text"]) + "</td>" +
           VerdictCell(p["verdict"]) + "<td>" + Text(p["because"]) + "</td></tr>\n";
  }
  out +=
      "</table>\n<h2>EN 18031-1 mechanisms</h2>\n<table>\n"
      "<tr><th>Mechanism</th><th>Name</th><th>From provisions</th><th>Verdict</th></tr>\n";
  for (const auto& m : e["en18031_1"]) {
    out += "<tr><td>" + Text(m["mechanism"]) + "</td><td>" + Text(m["name"]) + "</td><td>" +
           Text(m["provisions"]) + "</td>" + VerdictCell(m["verdict"]) + "</tr>\n";
  }
  out += "</table>\n<h2>Facts</h2>\n<table>\n";
  FactRows(e["facts"], "", out);
  out += "</table>\n</body></html>\n";
  return out;
}

}  // namespace imprint::ca
