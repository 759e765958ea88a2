#pragma once
// What support staff see of a device (its certificate, revocation and former certificates), and
// rework of a device that came back. Rules on what the command opened (ca/revocation/cli.cc).

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "ca/audit/write_context.h"
#include "common/error.h"
#include "common/sql/database.h"

namespace imprint::ca {

// A device back from the field or from rework: its certificate is revoked (superseded) unless
// it is already, kept in device_history, and the device may be provisioned again (a new
// certificate, on an order with quota). Audited as device.reworked.
Status DeviceRework(WriteContext& ctx, const std::string& device_id);
// The step rework and a superseding offline certificate share: the device's current certificate
// moves to device_history, is revoked (superseded) unless it is already, its verifiers are
// dropped and the device row is deleted. `audit_seq` is the record that says why. NOT_FOUND for
// an unknown device.
Status RetireCertificate(WriteContext& ctx, const std::string& device_id, uint64_t audit_seq);

struct DeviceInfo {
  std::string device_id, order_id, station, status, serial_hex;
  int64_t issued_ms = 0;
  std::optional<int64_t> reported_ms;
  struct Revocation {
    std::string reason;
    int64_t revoked_ms = 0;
    std::optional<int64_t> invalidity_ms;
  };
  std::optional<Revocation> revocation;
  struct Former {  // certificates before a rework, oldest first
    std::string serial_hex, order_id, reason;
    int64_t issued_ms = 0, reworked_ms = 0;
  };
  std::vector<Former> former;
  // The evidence that the key lives in the device's TPM (docs/attestation.md), when it was
  // attested: the marshalled TPM structures as the device sent them.
  struct Attestation {
    std::string kind;  // "tpm"
    std::string ek_issuer;
    Bytes ek_certificate_der, ak_name, ak_public, key_public, certify_info, certify_signature;
  };
  std::optional<Attestation> attestation;
  // Operational certificates renewed in the field over EST (docs/est.md), oldest first.
  struct Operational {
    std::string serial_hex, profile, authenticated_by, revoked;  // revoked: the reason, or ""
    int64_t not_before_ms = 0, not_after_ms = 0;
  };
  std::vector<Operational> operational;
  // The label bound to the unit by scan-back (docs/labels.md).
  struct Label {
    std::string code, station;
    int64_t bound_ms = 0;
  };
  std::optional<Label> label;
};
// INVALID_ARGUMENT for a malformed id, NOT_FOUND for an unknown device.
Result<DeviceInfo> DeviceShow(sql::Database& db, const std::string& device_id);

}  // namespace imprint::ca
