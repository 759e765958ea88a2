#include "common/matter/attestation.h"

#include <algorithm>

#include "common/matter/tlv.h"
#include "common/x509/ecdsa_signature.h"
#include "common/x509/signer.h"

namespace imprint::matter {

Result<Bytes> BuildAttestationElements(const AttestationElements& e) {
  TlvWriter w;
  w.StartStructure();
  w.PutBytes(1, e.certification_declaration);
  w.PutBytes(2, e.attestation_nonce);
  w.PutUnsigned(3, e.timestamp);
  if (e.firmware_information) w.PutBytes(4, *e.firmware_information);
  w.EndContainer();
  Bytes out = w.Finish();
  if (out.size() > kMaxAttestationElementsBytes) {
    return Fail(Code::kInvalidArgument, "attestation elements larger than 900 bytes");
  }
  return out;
}

Result<AttestationElements> ParseAttestationElements(ByteView tlv) {
  if (tlv.size() > kMaxAttestationElementsBytes) {
    return Fail(Code::kInvalidArgument, "attestation elements larger than 900 bytes");
  }
  IMPRINT_ASSIGN_OR_RETURN(TlvElement root, ReadTlv(tlv));
  if (root.type != TlvType::kStruct || root.tag || root.profile_tag) {
    return Fail(Code::kInvalidArgument, "attestation elements are not an anonymous structure");
  }
  AttestationElements e;
  const TlvElement* cd = root.Find(1);
  const TlvElement* nonce = root.Find(2);
  const TlvElement* timestamp = root.Find(3);
  const TlvElement* firmware = root.Find(4);
  if (cd == nullptr || cd->type != TlvType::kBytes) {
    return Fail(Code::kInvalidArgument, "attestation elements lack the certification declaration");
  }
  if (nonce == nullptr || nonce->type != TlvType::kBytes ||
      nonce->bytes.size() != kAttestationNonceBytes) {
    return Fail(Code::kInvalidArgument, "attestation elements lack a 32-byte nonce");
  }
  if (timestamp == nullptr || timestamp->type != TlvType::kUnsigned ||
      timestamp->unsigned_value > 0xffffffff) {
    return Fail(Code::kInvalidArgument, "attestation elements lack the timestamp");
  }
  for (const TlvElement& child : root.children) {
    if (!child.profile_tag && (!child.tag || *child.tag < 1 || *child.tag > 4)) {
      return Fail(Code::kInvalidArgument, "attestation elements hold an unknown element");
    }
  }
  e.certification_declaration = cd->bytes;
  e.attestation_nonce = nonce->bytes;
  e.timestamp = static_cast<uint32_t>(timestamp->unsigned_value);
  if (firmware != nullptr) {
    if (firmware->type != TlvType::kBytes) {
      return Fail(Code::kInvalidArgument, "attestation firmware_information is not bytes");
    }
    e.firmware_information = firmware->bytes;
  }
  return e;
}

Bytes AttestationTbs(ByteView elements, ByteView challenge) {
  Bytes tbs(elements.begin(), elements.end());
  tbs.insert(tbs.end(), challenge.begin(), challenge.end());
  return tbs;
}

Status VerifyAttestation(EVP_PKEY* dac_key, ByteView elements, ByteView challenge,
                         ByteView signature, ByteView nonce, ByteView declaration) {
  if (challenge.size() != kAttestationChallengeBytes) {
    return Fail(Code::kInvalidArgument, "attestation challenge must be 16 bytes");
  }
  IMPRINT_ASSIGN_OR_RETURN(AttestationElements e, ParseAttestationElements(elements));
  if (!std::equal(e.attestation_nonce.begin(), e.attestation_nonce.end(), nonce.begin(),
                  nonce.end())) {
    return Fail(Code::kInvalidArgument, "attestation nonce is not the one the CA sent");
  }
  if (!std::equal(e.certification_declaration.begin(), e.certification_declaration.end(),
                  declaration.begin(), declaration.end())) {
    return Fail(Code::kInvalidArgument,
                "attestation carries another certification declaration than the order's");
  }
  auto der = x509::EcdsaRawToDer(signature, kAttestationSignatureBytes / 2);
  if (!der) return Fail(Code::kInvalidArgument, "attestation signature is not 64 bytes");
  auto verified = x509::VerifySignature(dac_key, x509::SignatureAlgorithm::kEcdsaSha256,
                                        AttestationTbs(elements, challenge), *der);
  if (!verified) return Fail(Code::kInvalidArgument, "attestation signature does not verify");
  return {};
}

}  // namespace imprint::matter
