#pragma once
// The evidence pack (docs/handover.md "Evidence pack"): facts about one order computed from
// the store, the token and the audit log at export time, and what they say about the
// EN 303 645 provisions on passwords, keys and communication. Gather reads; Assess is pure
// (so every verdict can be tested on made-up facts); WriteEvidence writes evidence.json,
// evidence.html and evidence.sig.json (a JWS by the manifest key over both files' digests).
// Implemented in evidence_facts.cc (Gather), evidence_assess.cc (Assess and the JSON),
// evidence_html.cc (the page) and evidence.cc (WriteEvidence).

#include <cstdint>
#include <map>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "ca/config.h"
#include "common/error.h"

namespace imprint::ca {

struct KeyFacts {
  std::string label;
  std::string type;  // "EC P-256", "RSA 3072", "HMAC 256"
  bool sensitive = false, extractable = true, never_extractable = false, always_sensitive = false;
};

struct EvidenceFacts {
  std::string order_id, product, order_status, organization;
  int64_t quota = 0;
  int64_t devices = 0, verified = 0, failed = 0;
  int64_t first_issued_ms = 0, last_issued_ms = 0;
  // Passwords (5.1-1, 5.1-2)
  std::string password_alphabet;
  int password_length = 0;
  double password_entropy_bits = 0;
  std::string password_source;  // the token whose C_GenerateRandom drew them
  int64_t password_verifiers = 0, distinct_password_verifiers = 0, devices_with_password = 0;
  // A Matter order (docs/matter.md): its setup passcodes stand where the passwords do.
  bool matter = false;
  std::string matter_pai, matter_vendor_id, matter_product_id, matter_cd_sha256;
  int64_t matter_iterations = 0, matter_devices = 0, matter_distinct_passcodes = 0;
  // Device keys (5.4-3, 5.4-4, 5.5-1)
  int64_t distinct_device_keys = 0;
  // Devices whose key was proven to live in their TPM (docs/attestation.md).
  int64_t tpm_attested_keys = 0;
  int64_t certificates_issued = 0;  // each after its CSR's signature (proof of possession) verified
  int64_t reworked = 0;             // certificates replaced by a rework, counted in the line above
  std::map<std::string, int64_t> device_key_types;
  // The CA (5.4-1, 5.5-1)
  std::vector<KeyFacts> ca_keys;
  std::string ca_signature_algorithm;
  nlohmann::json device_profile;
  // Revocation
  int64_t revoked = 0;
  std::map<std::string, int64_t> revoked_by_reason;
  // Audit (5.5-8)
  bool audit_verified = false;
  std::string audit_error;
  uint64_t audit_records = 0, audit_head_seq = 0, audit_checkpoint_seq = 0, audit_unsealed = 0;
  std::string audit_head_hash;
  int64_t audit_checkpoint_ms = 0;
  std::string software_version;
  int64_t generated_ms = 0;
};

// Computes the facts from `session`'s store, reading the CA's keys and verifying the audit log
// with its token (the caller's open session, AdminSession::OpenUnverified). NOT_FOUND for an
// unknown order. A broken audit chain is a fact (FAIL), not an error.
struct AdminSession;
Result<EvidenceFacts> GatherEvidence(const CaConfig& config, AdminSession& session,
                                     const std::string& order_id);

struct Verdict {
  std::string id;       // "5.1-1"
  std::string source;   // "ETSI EN 303 645 V2.1.1"
  std::string text;     // the provision's wording
  std::string verdict;  // PASS, FAIL or N/A
  std::string because;  // the facts behind it, in a sentence with the numbers
};

std::vector<Verdict> Assess(const EvidenceFacts& facts);

// evidence.json: facts, verdicts, the EN 18031-1 mechanisms mapped to them, overall verdict.
nlohmann::json EvidenceJson(const EvidenceFacts& facts, const std::vector<Verdict>& verdicts);
// evidence.html: the same for a browser, one file with no external resource.
std::string EvidenceHtml(const nlohmann::json& evidence);

struct EvidenceOptions {
  std::string order_id, out_dir;
  bool force = false;
};
struct EvidenceResult {
  std::string verdict;     // PASS or FAIL
  uint64_t audit_seq = 0;  // the evidence.signed record; 0 when the audit log failed verification
};
// Writes the pack, audited as evidence.signed when the audit log verifies (a pack on a broken
// log still says FAIL). Errors leave no file.
Result<EvidenceResult> WriteEvidence(const CaConfig& config, const EvidenceOptions& options);

}  // namespace imprint::ca
