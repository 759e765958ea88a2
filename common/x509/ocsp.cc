#include "common/x509/ocsp.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/ocsp.h>

#include "common/x509/der.h"
#include "common/x509/encoding.h"
#include "common/x509/openssl_error.h"
#include "common/x509/openssl_types.h"
#include "common/x509/signed_der.h"

namespace imprint::x509 {
namespace {

using RequestPtr = Owned<OCSP_REQUEST, OCSP_REQUEST_free>;
using GeneralizedTimePtr = Owned<ASN1_GENERALIZEDTIME, ASN1_GENERALIZEDTIME_free>;

// id-pkix-ocsp-basic, 1.3.6.1.5.5.7.48.1.1 (RFC 6960 4.2.1)
constexpr uint8_t kBasicOid[] = {0x2b, 0x06, 0x01, 0x05, 0x05, 0x07, 0x30, 0x01, 0x01};
constexpr uint8_t kEnumerated = 0x0a, kOctetString = 0x04;

Bytes OctetsOf(const ASN1_STRING* s) {
  return Bytes(ASN1_STRING_get0_data(s), ASN1_STRING_get0_data(s) + ASN1_STRING_length(s));
}

Result<Bytes> GeneralizedTime(int64_t ms) {
  GeneralizedTimePtr t(ASN1_GENERALIZEDTIME_set(nullptr, static_cast<time_t>(ms / 1000)));
  if (!t) return std::unexpected(OpenSslError(Code::kInternal, "GeneralizedTime"));
  return ToDer(i2d_ASN1_GENERALIZEDTIME, t.get());
}

Result<OcspCertId> ReadCertId(OCSP_CERTID* id) {
  ASN1_OCTET_STRING* name = nullptr;
  ASN1_OCTET_STRING* key = nullptr;
  ASN1_OBJECT* md = nullptr;
  ASN1_INTEGER* serial = nullptr;
  if (OCSP_id_get0_info(&name, &md, &key, &serial, id) != 1 || serial == nullptr) {
    return Fail(Code::kInvalidArgument, "OCSP CertID incomplete");
  }
  OcspCertId out;
  IMPRINT_ASSIGN_OR_RETURN(out.der, ToDer(i2d_OCSP_CERTID, id));
  out.hash_nid = OBJ_obj2nid(md);
  out.issuer_name_hash = OctetsOf(name);
  out.issuer_key_hash = OctetsOf(key);
  out.serial = OctetsOf(serial);
  out.serial_negative = ASN1_STRING_type(serial) == V_ASN1_NEG_INTEGER;
  return out;
}

// SingleResponse (RFC 6960 4.2.1) for one answer; the times are already DER.
Result<Bytes> SingleResponse(const OcspAnswer& a, ByteView this_update, ByteView next_update) {
  Bytes single = a.cert_id;
  switch (a.status) {
    case OcspAnswer::Status::kGood:
      single.insert(single.end(), {0x80, 0x00});
      break;  // [0] NULL
    case OcspAnswer::Status::kUnknown:
      single.insert(single.end(), {0x82, 0x00});
      break;
    case OcspAnswer::Status::kRevoked: {
      IMPRINT_ASSIGN_OR_RETURN(Bytes info, GeneralizedTime(a.revoked_ms));
      if (a.reason != CrlReason::kUnspecified) {
        Bytes reason{kEnumerated, 0x01, static_cast<uint8_t>(a.reason)};
        der::Append(info, der::kContext0Constructed, reason);  // revocationReason [0] EXPLICIT
      }
      der::Append(single, 0xa1, info);  // revoked [1] IMPLICIT RevokedInfo
      break;
    }
  }
  single.insert(single.end(), this_update.begin(), this_update.end());
  Bytes next;
  der::Append(next, der::kContext0Constructed, next_update);  // nextUpdate [0] EXPLICIT
  single.insert(single.end(), next.begin(), next.end());
  Bytes out;
  der::Append(out, der::kSequence, single);
  return out;
}

}  // namespace

Result<OcspRequest> ParseOcspRequest(ByteView der, size_t max_ids) {
  const unsigned char* p = der.data();
  RequestPtr request(d2i_OCSP_REQUEST(nullptr, &p, static_cast<long>(der.size())));
  int count = request ? OCSP_request_onereq_count(request.get()) : 0;
  if (!request || p != der.data() + der.size()) {
    ClearOpenSslErrors();
    return Fail(Code::kInvalidArgument, "not an OCSP request");
  }
  if (count < 1 || static_cast<size_t>(count) > max_ids) {
    return Fail(Code::kInvalidArgument,
                "an OCSP request must ask about 1 to " + std::to_string(max_ids) + " certificates");
  }
  OcspRequest out;
  for (int i = 0; i < count; ++i) {
    IMPRINT_ASSIGN_OR_RETURN(
        OcspCertId id, ReadCertId(OCSP_onereq_get0_id(OCSP_request_onereq_get0(request.get(), i))));
    out.ids.push_back(std::move(id));
  }
  int nonce_at = OCSP_REQUEST_get_ext_by_NID(request.get(), NID_id_pkix_OCSP_Nonce, -1);
  if (nonce_at >= 0) {
    IMPRINT_ASSIGN_OR_RETURN(
        out.nonce_extension,
        ToDer(i2d_X509_EXTENSION, OCSP_REQUEST_get_ext(request.get(), nonce_at)));
  }
  return out;
}

Result<OcspIssuerHashes> IssuerHashes(const X509* issuer, int hash_nid) {
  const EVP_MD* md = EVP_get_digestbynid(hash_nid);
  const ASN1_BIT_STRING* bits = X509_get0_pubkey_bitstr(issuer);
  unsigned char name[EVP_MAX_MD_SIZE], key[EVP_MAX_MD_SIZE];
  unsigned int name_len = 0, key_len = 0;
  if (md == nullptr || bits == nullptr ||
      X509_NAME_digest(X509_get_subject_name(issuer), md, name, &name_len) != 1 ||
      EVP_Digest(bits->data, static_cast<size_t>(bits->length), key, &key_len, md, nullptr) != 1) {
    return std::unexpected(OpenSslError(Code::kInvalidArgument, "issuer hashes"));
  }
  return OcspIssuerHashes{Bytes(name, name + name_len), Bytes(key, key + key_len)};
}

IssuerHashesByNid HashIssuer(const X509* issuer) {
  IssuerHashesByNid out;
  for (int nid : {NID_sha1, NID_sha256}) {
    if (auto hashes = IssuerHashes(issuer, nid)) out[nid] = *hashes;
  }
  return out;
}

bool SameIssuer(const OcspCertId& id, const IssuerHashesByNid& hashes) {
  auto it = hashes.find(id.hash_nid);
  if (it == hashes.end()) return false;
  auto same = [](const Bytes& a, const Bytes& b) {
    return a.size() == b.size() && CRYPTO_memcmp(a.data(), b.data(), a.size()) == 0;
  };
  return same(id.issuer_name_hash, it->second.name_hash) &&
         same(id.issuer_key_hash, it->second.key_hash);
}

Result<Bytes> BuildOcspResponse(const OcspResponseSpec& spec, Signer& signer) {
  IMPRINT_ASSIGN_OR_RETURN(Bytes produced, GeneralizedTime(spec.produced_ms));
  IMPRINT_ASSIGN_OR_RETURN(Bytes next_update, GeneralizedTime(spec.next_update_ms));
  Bytes responses;
  for (const OcspAnswer& a : spec.answers) {
    IMPRINT_ASSIGN_OR_RETURN(Bytes single, SingleResponse(a, produced, next_update));
    responses.insert(responses.end(), single.begin(), single.end());
  }
  // ResponseData: version omitted (v1), responderID byKey [2], producedAt, responses, and the
  // nonce as responseExtensions [1].
  Bytes data, key_hash;
  der::Append(key_hash, kOctetString, spec.responder_key_hash);
  der::Append(data, 0xa2, key_hash);
  data.insert(data.end(), produced.begin(), produced.end());
  der::Append(data, der::kSequence, responses);
  if (spec.nonce_extension) {
    Bytes list;
    der::Append(list, der::kSequence, *spec.nonce_extension);
    der::Append(data, 0xa1, list);
  }
  Bytes tbs;
  der::Append(tbs, der::kSequence, data);
  // certs [0] EXPLICIT SEQUENCE OF Certificate, after the signature.
  Bytes certs, cert_list, each = spec.responder_cert;
  for (const Bytes& cert : spec.chain) each.insert(each.end(), cert.begin(), cert.end());
  der::Append(cert_list, der::kSequence, each);
  der::Append(certs, der::kContext0Constructed, cert_list);
  IMPRINT_ASSIGN_OR_RETURN(Bytes basic, SignAndAssemble(tbs, signer, certs));

  // OCSPResponse: successful (0), responseBytes [0] EXPLICIT { id-pkix-ocsp-basic, OCTET STRING }.
  Bytes response_bytes, wrapped, body{kEnumerated, 0x01, 0x00}, out;
  der::Append(response_bytes, der::kOid, ByteView(kBasicOid, sizeof(kBasicOid)));
  der::Append(response_bytes, kOctetString, basic);
  der::Append(wrapped, der::kSequence, response_bytes);
  der::Append(body, der::kContext0Constructed, wrapped);
  der::Append(out, der::kSequence, body);
  return out;
}

Bytes OcspStatusOnly(OcspResponseStatus status) {
  Bytes body{kEnumerated, 0x01, static_cast<uint8_t>(status)}, out;
  der::Append(out, der::kSequence, body);
  return out;
}

}  // namespace imprint::x509
