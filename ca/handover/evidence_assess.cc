// Assess: what the facts say about each provision. Every verdict is computed from the facts
// (docs/handover.md lists the rules); the provisions' wording is quoted from EN 303 645.

#include <cmath>
#include <sstream>

#include "ca/handover/evidence.h"
#include "common/utc_time.h"

namespace imprint::ca {
namespace {

constexpr const char* kEn303645 = "ETSI EN 303 645 V2.1.1";
constexpr double kMinPasswordBits = 64.0;

std::string N(int64_t n) { return std::to_string(n); }

std::string Bits(double bits) {
  std::ostringstream out;
  out.precision(1);
  out << std::fixed << bits;
  return out.str();
}

// Probability that any two of n passwords drawn uniformly from 2^bits values are equal
// (birthday bound n(n-1)/2 / 2^bits).
double CollisionBound(int64_t n, double bits) {
  double pairs = static_cast<double>(n) * static_cast<double>(n > 0 ? n - 1 : 0) / 2.0;
  return pairs / std::pow(2.0, bits);
}

bool KeyStaysInToken(const KeyFacts& k) {
  return k.sensitive && !k.extractable && k.never_extractable && k.always_sensitive;
}

bool StrongCaKey(const KeyFacts& k) {
  return k.type == "EC P-256" || k.type == "EC P-384" || k.type.starts_with("HMAC 256") ||
         (k.type.starts_with("RSA ") && std::stoi(k.type.substr(4)) >= 3072);
}

Verdict Make(const char* id, const char* text, bool applicable, bool pass, std::string because) {
  return {id, kEn303645, text, !applicable ? "N/A" : pass ? "PASS" : "FAIL", std::move(because)};
}

// 5.1-1 and 5.1-2 for a Matter order: its setup passcodes are the devices' unique credentials
// (docs/matter.md), 27 bits as the Matter specification fixes them.
void AssessMatterPasscodes(const EvidenceFacts& f, bool passwords, bool every_device, bool distinct,
                           std::vector<Verdict>& out) {
  bool unique = f.matter_distinct_passcodes == f.matter_devices;
  out.push_back(Make(
      "5.1-1",
      "Where passwords are used and in any state other than the factory default, all consumer "
      "IoT device passwords shall be unique per device or defined by the user.",
      passwords, every_device && distinct && unique,
      N(f.devices_with_password) + " of " + N(f.devices) +
          " devices have a Matter setup passcode (the CA keeps an HMAC verifier of each, never "
          "the passcode); " +
          N(f.matter_distinct_passcodes) + " distinct passcodes among " + N(f.matter_devices) +
          " devices' commissioning data, the store refusing a repeat within the order (a repeat "
          "is drawn again)"));
  bool from_token = f.password_source.starts_with("C_GenerateRandom");
  out.push_back(Make(
      "5.1-2",
      "Where pre-installed unique per device passwords are used, these shall be generated with a "
      "mechanism that reduces the risk of automated attacks against a class or type of device.",
      passwords, from_token && f.matter_iterations >= 1000,
      "27-bit Matter setup passcodes (the size the Matter specification fixes) drawn uniformly "
      "by rejection sampling from " +
          f.password_source +
          ", never one of the specification's forbidden values (00000000, 11111111 ... 99999999, "
          "12345678, 87654321); the device holds only the SPAKE2+ verifier (PBKDF2 with " +
          N(f.matter_iterations) +
          " iterations), never the passcode; not derived from the device id, serial number or "
          "any other public value"));
}

}  // namespace

std::vector<Verdict> Assess(const EvidenceFacts& f) {
  std::vector<Verdict> out;
  bool passwords = f.password_verifiers > 0;
  bool every_device = f.devices_with_password == f.devices;
  bool distinct = f.distinct_password_verifiers == f.password_verifiers;
  if (f.matter) {
    AssessMatterPasscodes(f, passwords, every_device, distinct, out);
  } else {
    out.push_back(Make(
        "5.1-1",
        "Where passwords are used and in any state other than the factory default, all consumer "
        "IoT device passwords shall be unique per device or defined by the user.",
        passwords, every_device && distinct,
        !passwords ? "no device of this order was given a password"
                   : N(f.devices_with_password) + " of " + N(f.devices) +
                         " devices have a password verifier; " + N(f.distinct_password_verifiers) +
                         " distinct verifiers of " + N(f.password_verifiers) +
                         " (a duplicate means a verifier was copied); each password is " +
                         Bits(f.password_entropy_bits) +
                         " bits drawn independently, so the chance that any two of them are equal "
                         "is at most " +
                         [&] {
                           std::ostringstream s;
                           s << CollisionBound(f.devices_with_password, f.password_entropy_bits);
                           return s.str();
                         }()));
    bool from_token = f.password_source.starts_with("C_GenerateRandom");
    bool strong = f.password_entropy_bits >= kMinPasswordBits;
    out.push_back(Make(
        "5.1-2",
        "Where pre-installed unique per device passwords are used, these shall be generated with a "
        "mechanism that reduces the risk of automated attacks against a class or type of device.",
        passwords, from_token && strong,
        std::to_string(f.password_length) + " symbols from a " +
            N(static_cast<int64_t>(f.password_alphabet.size())) + "-symbol alphabet (" +
            Bits(f.password_entropy_bits) + " bits, at least " + Bits(kMinPasswordBits) +
            " required), drawn uniformly by rejection sampling from " + f.password_source +
            "; not derived from the device id, serial number or any other public value"));
  }
  bool keys_in_token = !f.ca_keys.empty();
  std::string weak;
  for (const KeyFacts& k : f.ca_keys) {
    if (!KeyStaysInToken(k)) weak += (weak.empty() ? "" : ", ") + k.label;
  }
  keys_in_token = keys_in_token && weak.empty();
  out.push_back(Make(
      "5.4-1",
      "Sensitive security parameters in persistent storage shall be stored securely by the device.",
      true, keys_in_token,
      weak.empty()
          ? N(static_cast<int64_t>(f.ca_keys.size())) +
                " CA keys read back from the token are CKA_SENSITIVE, never extractable and "
                "always sensitive; the CA keeps passwords only as HMAC verifiers keyed in the "
                "token; each device key was made on the device and only its public half left "
                "it; device keys attested TPM-resident: " +
                N(f.tpm_attested_keys) + " of " + N(f.devices)
          : "keys that are or were extractable or not sensitive: " + weak));
  bool keys_unique = f.devices > 0 && f.distinct_device_keys == f.devices;
  out.push_back(Make(
      "5.4-3",
      "Hard-coded critical security parameters in device software source code shall not be used",
      f.devices > 0, keys_unique && (!passwords || distinct),
      N(f.distinct_device_keys) + " distinct device public keys among " + N(f.devices) +
          " devices: no key is shared, so none can come from common software; " +
          (passwords ? N(f.distinct_password_verifiers) + " distinct password verifiers"
                     : std::string("no passwords"))));
  bool pop = f.certificates_issued == f.devices + f.reworked;
  out.push_back(Make(
      "5.4-4",
      "Any critical security parameters used for integrity and authenticity checks of software "
      "updates and for protection of communication with associated services in device software "
      "shall be unique per device and shall be produced with a mechanism that reduces the risk "
      "of automated attacks against classes of devices.",
      f.devices > 0, keys_unique && pop,
      N(f.certificates_issued) +
          " certificates issued, each after the CSR's signature proved "
          "possession of its key; " +
          N(f.distinct_device_keys) + " distinct keys for " + N(f.devices) + " devices; " +
          N(f.verified) + " devices proved the key again by signing a CA challenge"));
  bool strong_ca = !f.ca_keys.empty();
  for (const KeyFacts& k : f.ca_keys) strong_ca = strong_ca && StrongCaKey(k);
  bool strong_devices = f.devices > 0 && !f.device_key_types.contains("refused by the key policy");
  std::string types;
  for (const auto& [type, n] : f.device_key_types)
    types += (types.empty() ? "" : ", ") + type + ": " + N(n);
  out.push_back(Make(
      "5.5-1",
      "The consumer IoT device shall use best practice cryptography to communicate securely.",
      f.devices > 0, strong_ca && strong_devices,
      "CA signs with " + f.ca_signature_algorithm + "; CA keys " +
          [&] {
            std::string s;
            for (const KeyFacts& k : f.ca_keys)
              s += (s.empty() ? "" : ", ") + k.label + " " + k.type;
            return s;
          }() +
          "; device keys " + (types.empty() ? "none" : types) +
          " (imprint accepts EC P-256, P-384 and RSA 2048-4096)"));
  out.push_back(Make(
      "5.5-8",
      "The manufacturer shall follow secure management processes for critical security "
      "parameters that relate to the device.",
      true, f.audit_verified && keys_in_token,
      f.audit_verified ? "audit log of " + std::to_string(f.audit_records) +
                             " records verified end to end: "
                             "hash chain, signed checkpoints (newest seals record " +
                             std::to_string(f.audit_checkpoint_seq) + ") and the token's anchor"
                       : "the audit log does not verify: " + f.audit_error));
  return out;
}

nlohmann::json EvidenceJson(const EvidenceFacts& f, const std::vector<Verdict>& verdicts) {
  nlohmann::json provisions = nlohmann::json::array();
  std::map<std::string, std::string> by_id;
  bool all_pass = true;
  for (const Verdict& v : verdicts) {
    provisions.push_back({{"id", v.id},
                          {"source", v.source},
                          {"text", v.text},
                          {"verdict", v.verdict},
                          {"because", v.because}});
    by_id[v.id] = v.verdict;
    all_pass = all_pass && v.verdict != "FAIL";
  }
  // EN 18031-1 mechanisms, each resting on the provisions above that carry its facts.
  auto mechanism = [&](const char* id, const char* name, std::vector<std::string> from) {
    std::string verdict = "N/A";
    for (const std::string& p : from) {
      if (by_id[p] == "FAIL")
        verdict = "FAIL";
      else if (by_id[p] == "PASS" && verdict == "N/A")
        verdict = "PASS";
    }
    return nlohmann::json{
        {"mechanism", id}, {"name", name}, {"provisions", from}, {"verdict", verdict}};
  };
  nlohmann::json keys = nlohmann::json::array();
  for (const KeyFacts& k : f.ca_keys) {
    keys.push_back({{"label", k.label},
                    {"type", k.type},
                    {"CKA_SENSITIVE", k.sensitive},
                    {"CKA_EXTRACTABLE", k.extractable},
                    {"CKA_NEVER_EXTRACTABLE", k.never_extractable},
                    {"CKA_ALWAYS_SENSITIVE", k.always_sensitive}});
  }
  nlohmann::json evidence = {
      {"format", "imprint-evidence-v1"},
      {"generated", FormatUtcTimeMs(f.generated_ms)},
      {"software", {{"name", "imprint"}, {"version", f.software_version}}},
      {"order",
       {{"id", f.order_id},
        {"product", f.product},
        {"status", f.order_status},
        {"quota", f.quota},
        {"organization", f.organization},
        {"first_issued", f.devices ? FormatUtcTimeMs(f.first_issued_ms) : ""},
        {"last_issued", f.devices ? FormatUtcTimeMs(f.last_issued_ms) : ""}}},
      {"facts",
       {{"devices", {{"total", f.devices}, {"verified", f.verified}, {"failed", f.failed}}},
        {"passwords",
         {{"alphabet", f.password_alphabet},
          {"length", f.password_length},
          {"entropy_bits", f.password_entropy_bits},
          {"source", f.password_source},
          {"verifiers", f.password_verifiers},
          {"distinct_verifiers", f.distinct_password_verifiers},
          {"devices_with_password", f.devices_with_password}}},
        {"device_keys",
         {{"distinct", f.distinct_device_keys},
          {"types", f.device_key_types},
          {"certificates_issued", f.certificates_issued},
          {"csr_proofs_checked", f.certificates_issued},
          {"reworked", f.reworked},
          {"challenge_proofs_verified", f.verified},
          {"tpm_attested", f.tpm_attested_keys}}},
        {"ca",
         {{"keys", keys},
          {"signature_algorithm", f.ca_signature_algorithm},
          {"device_profile", f.device_profile}}},
        {"revocations", {{"total", f.revoked}, {"by_reason", f.revoked_by_reason}}},
        {"audit",
         {{"verified", f.audit_verified},
          {"error", f.audit_error},
          {"records", f.audit_records},
          {"head_seq", f.audit_head_seq},
          {"head_hash", f.audit_head_hash},
          {"checkpoint_seq", f.audit_checkpoint_seq},
          {"checkpoint_time", f.audit_checkpoint_ms ? FormatUtcTimeMs(f.audit_checkpoint_ms) : ""},
          {"unsealed", f.audit_unsealed}}}}},
      {"provisions", provisions},
      {"en18031_1",
       {mechanism("AUM", "authentication", {"5.1-1", "5.1-2"}),
        mechanism("SSM", "secure storage", {"5.4-1"}),
        mechanism("SCM", "secure communication", {"5.5-1", "5.4-4"})}},
      {"verdict", all_pass ? "PASS" : "FAIL"},
  };
  if (f.matter) {
    evidence["facts"]["matter"] = {{"pai", f.matter_pai},
                                   {"vendor_id", f.matter_vendor_id},
                                   {"product_id", f.matter_product_id},
                                   {"cd_sha256", f.matter_cd_sha256},
                                   {"iterations", f.matter_iterations},
                                   {"devices", f.matter_devices},
                                   {"distinct_passcodes", f.matter_distinct_passcodes},
                                   {"dac_keys", "made on each device; only its CSR left it"}};
  }
  return evidence;
}

}  // namespace imprint::ca
