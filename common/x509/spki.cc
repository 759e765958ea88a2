#include "common/x509/spki.h"

#include <openssl/core_names.h>
#include <openssl/x509.h>

#include <algorithm>
#include <array>
#include <string_view>

#include "common/x509/der.h"
#include "common/x509/openssl_error.h"

namespace imprint::x509 {
namespace {

// OID value octets (X.690 8.19): id-ecPublicKey (RFC 5480 2.1.1) and the named curves.
constexpr std::array<uint8_t, 7> kEcPublicKey{0x2A, 0x86, 0x48, 0xCE, 0x3D, 0x02, 0x01};
constexpr std::array<uint8_t, 8> kPrime256v1{0x2A, 0x86, 0x48, 0xCE, 0x3D, 0x03, 0x01, 0x07};
constexpr std::array<uint8_t, 5> kSecp384r1{0x2B, 0x81, 0x04, 0x00, 0x22};

template <size_t N>
bool Equals(ByteView a, const std::array<uint8_t, N>& b) {
  return std::equal(a.begin(), a.end(), b.begin(), b.end());
}

// The curve name of an id-ecPublicKey key on P-256 or P-384, or nullptr.
const char* NamedCurve(const SpkiParts& parts) {
  if (!Equals(parts.oid, kEcPublicKey)) return nullptr;
  der::Reader params(parts.parameters);
  auto curve = params.Expect(der::kOid);
  if (!curve || !params.empty()) return nullptr;
  if (Equals(curve->content, kPrime256v1)) return "P-256";
  if (Equals(curve->content, kSecp384r1)) return "P-384";
  return nullptr;
}

// A key holding only the curve's parameters. EVP_PKEY_fromdata builds the group from its
// name on every call (about 16 us per key in OpenSSL 3.0); copying the parameters from this
// template and then setting the point costs about 4 us. Both decode the point with
// EC_POINT_oct2point, which refuses a point that is not on the curve.
PkeyPtr CurveTemplate(const char* curve) {
  OSSL_PARAM params[] = {
      OSSL_PARAM_construct_utf8_string(OSSL_PKEY_PARAM_GROUP_NAME, const_cast<char*>(curve), 0),
      OSSL_PARAM_construct_end()};
  PkeyCtxPtr ctx(EVP_PKEY_CTX_new_from_name(nullptr, "EC", nullptr));
  EVP_PKEY* key = nullptr;
  if (!ctx || EVP_PKEY_fromdata_init(ctx.get()) != 1 ||
      EVP_PKEY_fromdata(ctx.get(), &key, EVP_PKEY_KEY_PARAMETERS, params) != 1) {
    return nullptr;
  }
  return PkeyPtr(key);
}

// Built once, then only read.
const EVP_PKEY* Template(std::string_view curve) {
  static const PkeyPtr p256 = CurveTemplate("P-256");
  static const PkeyPtr p384 = CurveTemplate("P-384");
  return curve == "P-256" ? p256.get() : p384.get();
}

Result<PkeyPtr> EcKeyFromPoint(const char* curve, ByteView point) {
  const EVP_PKEY* parameters = Template(curve);
  PkeyPtr key(EVP_PKEY_new());
  if (parameters == nullptr || !key || EVP_PKEY_copy_parameters(key.get(), parameters) != 1) {
    return std::unexpected(OpenSslError(Code::kInternal, "EC key parameters"));
  }
  if (EVP_PKEY_set1_encoded_public_key(key.get(), point.data(), point.size()) != 1) {
    return std::unexpected(OpenSslError(Code::kInvalidArgument, "EC public key is not valid"));
  }
  return key;
}

}  // namespace

Result<ByteView> CertificateSpki(ByteView certificate_der) {
  der::Reader outer(certificate_der);
  IMPRINT_ASSIGN_OR_RETURN(der::Element cert, outer.Expect(der::kSequence));
  der::Reader cert_fields(cert.content);
  IMPRINT_ASSIGN_OR_RETURN(der::Element tbs, cert_fields.Expect(der::kSequence));
  der::Reader fields(tbs.content);
  if (fields.PeekTag() == der::kContext0Constructed) {
    IMPRINT_RETURN_IF_ERROR(fields.Expect(der::kContext0Constructed));  // version
  }
  IMPRINT_RETURN_IF_ERROR(fields.Expect(der::kInteger));  // serialNumber
  for (int i = 0; i < 4; ++i) {                           // signature, issuer, validity, subject
    IMPRINT_RETURN_IF_ERROR(fields.Expect(der::kSequence));
  }
  IMPRINT_ASSIGN_OR_RETURN(der::Element spki, fields.Expect(der::kSequence));
  return spki.whole;
}

Result<SpkiParts> SplitSpki(ByteView spki_der) {
  der::Reader outer(spki_der);
  IMPRINT_ASSIGN_OR_RETURN(der::Element spki, outer.Expect(der::kSequence));
  if (!outer.empty()) return Fail(Code::kInvalidArgument, "trailing bytes after public key");
  der::Reader fields(spki.content);
  IMPRINT_ASSIGN_OR_RETURN(der::Element algorithm, fields.Expect(der::kSequence));
  IMPRINT_ASSIGN_OR_RETURN(der::Element bits, fields.Expect(der::kBitString));
  if (!fields.empty()) return Fail(Code::kInvalidArgument, "malformed public key");
  der::Reader alg(algorithm.content);
  IMPRINT_ASSIGN_OR_RETURN(der::Element oid, alg.Expect(der::kOid));
  SpkiParts parts{algorithm.whole, oid.content, {}, {}};
  if (!alg.empty()) {
    // ANY DEFINED BY the algorithm: kept as encoded, whatever its tag.
    IMPRINT_ASSIGN_OR_RETURN(der::Element params, alg.Expect(alg.PeekTag()));
    if (!alg.empty()) return Fail(Code::kInvalidArgument, "malformed public key algorithm");
    parts.parameters = params.whole;
  }
  IMPRINT_ASSIGN_OR_RETURN(parts.key, der::BitStringOctets(bits.content));
  return parts;
}

Result<Bytes> CanonicalSpki(ByteView spki_der, EVP_PKEY* key) {
  IMPRINT_ASSIGN_OR_RETURN(SpkiParts parts, SplitSpki(spki_der));
  if (!Equals(parts.oid, kEcPublicKey)) return Bytes(spki_der.begin(), spki_der.end());
  const char* curve = NamedCurve(parts);
  if (curve == nullptr) {
    return Fail(Code::kInvalidArgument,
                "EC public key must name its curve (P-256 or P-384); explicit parameters are "
                "refused");
  }
  if (!parts.key.empty() && parts.key[0] == 0x04) return Bytes(spki_der.begin(), spki_der.end());
  // A compressed point: ask OpenSSL for the uncompressed one and encode the SPKI around it.
  if (EVP_PKEY_set_utf8_string_param(key, OSSL_PKEY_PARAM_EC_POINT_CONVERSION_FORMAT,
                                     OSSL_PKEY_EC_POINT_CONVERSION_FORMAT_UNCOMPRESSED) != 1) {
    return std::unexpected(OpenSslError(Code::kInternal, "EC point conversion form"));
  }
  size_t point_len = 0;
  if (EVP_PKEY_get_octet_string_param(key, OSSL_PKEY_PARAM_ENCODED_PUBLIC_KEY, nullptr, 0,
                                      &point_len) != 1 ||
      point_len == 0 || point_len > 100) {
    return std::unexpected(OpenSslError(Code::kInvalidArgument, "EC public key point"));
  }
  Bytes point(point_len);
  if (EVP_PKEY_get_octet_string_param(key, OSSL_PKEY_PARAM_ENCODED_PUBLIC_KEY, point.data(),
                                      point.size(), &point_len) != 1 ||
      point[0] != 0x04) {
    return std::unexpected(OpenSslError(Code::kInvalidArgument, "EC public key point"));
  }
  // SEQUENCE { SEQUENCE { id-ecPublicKey, curve }, BIT STRING { 0 unused bits, point } };
  // every length here is under 128, so each is one octet.
  Bytes algorithm{0x06, static_cast<uint8_t>(kEcPublicKey.size())};
  algorithm.insert(algorithm.end(), kEcPublicKey.begin(), kEcPublicKey.end());
  algorithm.insert(algorithm.end(), parts.parameters.begin(), parts.parameters.end());
  Bytes body{0x30, static_cast<uint8_t>(algorithm.size())};
  body.insert(body.end(), algorithm.begin(), algorithm.end());
  body.push_back(0x03);
  body.push_back(static_cast<uint8_t>(point.size() + 1));
  body.push_back(0x00);
  body.insert(body.end(), point.begin(), point.end());
  Bytes spki{0x30, static_cast<uint8_t>(body.size())};
  spki.insert(spki.end(), body.begin(), body.end());
  return spki;
}

Result<PkeyPtr> DecodePublicKey(ByteView spki_der) {
  IMPRINT_ASSIGN_OR_RETURN(SpkiParts parts, SplitSpki(spki_der));
  if (const char* curve = NamedCurve(parts)) return EcKeyFromPoint(curve, parts.key);
  const unsigned char* p = spki_der.data();
  PkeyPtr key(d2i_PUBKEY(nullptr, &p, static_cast<long>(spki_der.size())));
  if (!key || p != spki_der.data() + spki_der.size()) {
    return std::unexpected(OpenSslError(Code::kInvalidArgument, "public key cannot be decoded"));
  }
  return key;
}

}  // namespace imprint::x509
