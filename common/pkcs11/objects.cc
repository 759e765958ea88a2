#include "common/pkcs11/objects.h"

#include <openssl/core_names.h>
#include <openssl/objects.h>

#include <cstring>
#include <vector>

#include "common/x509/openssl_error.h"

namespace imprint::p11 {
namespace {

using x509::OpenSslError;

Result<x509::PkeyPtr> FromParams(const char* type, OSSL_PARAM_BLD* bld) {
  x509::ParamPtr params(OSSL_PARAM_BLD_to_param(bld));
  x509::PkeyCtxPtr ctx(EVP_PKEY_CTX_new_from_name(nullptr, type, nullptr));
  EVP_PKEY* key = nullptr;
  if (!params || !ctx || EVP_PKEY_fromdata_init(ctx.get()) != 1 ||
      EVP_PKEY_fromdata(ctx.get(), &key, EVP_PKEY_PUBLIC_KEY, params.get()) != 1) {
    return std::unexpected(OpenSslError(Code::kInternal, "public key from token attributes"));
  }
  return x509::PkeyPtr(key);
}

Result<x509::PkeyPtr> EcPublicKey(const Bytes& ec_params, const Bytes& ec_point) {
  // CKA_EC_PARAMS is the DER of the curve OID; CKA_EC_POINT is a DER OCTET STRING holding the
  // uncompressed point (PKCS#11 3.0 2.3.3).
  const unsigned char* p = ec_params.data();
  x509::Asn1ObjectPtr oid(d2i_ASN1_OBJECT(nullptr, &p, static_cast<long>(ec_params.size())));
  const unsigned char* q = ec_point.data();
  x509::Asn1OctetStringPtr point(
      d2i_ASN1_OCTET_STRING(nullptr, &q, static_cast<long>(ec_point.size())));
  if (!oid || !point) {
    return std::unexpected(OpenSslError(Code::kInternal, "EC key attributes are malformed"));
  }
  const char* group = OBJ_nid2sn(OBJ_obj2nid(oid.get()));
  x509::ParamBldPtr bld(OSSL_PARAM_BLD_new());
  if (!bld || group == nullptr ||
      OSSL_PARAM_BLD_push_utf8_string(bld.get(), OSSL_PKEY_PARAM_GROUP_NAME, group, 0) != 1 ||
      OSSL_PARAM_BLD_push_octet_string(bld.get(), OSSL_PKEY_PARAM_PUB_KEY,
                                       ASN1_STRING_get0_data(point.get()),
                                       static_cast<size_t>(ASN1_STRING_length(point.get()))) != 1) {
    return std::unexpected(OpenSslError(Code::kInternal, "EC key parameters"));
  }
  return FromParams("EC", bld.get());
}

Result<x509::PkeyPtr> RsaPublicKey(const Bytes& modulus, const Bytes& exponent) {
  x509::BigNumPtr n(BN_bin2bn(modulus.data(), static_cast<int>(modulus.size()), nullptr));
  x509::BigNumPtr e(BN_bin2bn(exponent.data(), static_cast<int>(exponent.size()), nullptr));
  x509::ParamBldPtr bld(OSSL_PARAM_BLD_new());
  if (!n || !e || !bld || OSSL_PARAM_BLD_push_BN(bld.get(), OSSL_PKEY_PARAM_RSA_N, n.get()) != 1 ||
      OSSL_PARAM_BLD_push_BN(bld.get(), OSSL_PKEY_PARAM_RSA_E, e.get()) != 1) {
    return std::unexpected(OpenSslError(Code::kInternal, "RSA key parameters"));
  }
  return FromParams("RSA", bld.get());
}

}  // namespace

std::string ObjectRef::Describe() const {
  std::string out;
  if (label) out += "label=" + *label;
  if (id) out += std::string(out.empty() ? "" : ";") + "id=" + HexEncode(*id);
  return out;
}

Result<CK_OBJECT_HANDLE> FindObject(SessionPool::Lease& lease, CK_OBJECT_CLASS object_class,
                                    const ObjectRef& ref) {
  if (!ref.label && !ref.id) {
    return Fail(Code::kInvalidArgument, "a key needs an object label or id");
  }
  std::vector<CK_ATTRIBUTE> query{{CKA_CLASS, &object_class, sizeof(object_class)}};
  if (ref.label) {
    query.push_back({CKA_LABEL, const_cast<char*>(ref.label->data()), ref.label->size()});
  }
  if (ref.id) query.push_back({CKA_ID, const_cast<uint8_t*>(ref.id->data()), ref.id->size()});
  CK_FUNCTION_LIST* api = lease.api();
  IMPRINT_RETURN_IF_ERROR(lease.Check(
      "C_FindObjectsInit", api->C_FindObjectsInit(lease.handle(), query.data(), query.size())));
  CK_OBJECT_HANDLE found[2] = {};
  CK_ULONG count = 0;
  CK_RV rv = api->C_FindObjects(lease.handle(), found, 2, &count);
  CK_RV final_rv = api->C_FindObjectsFinal(lease.handle());
  IMPRINT_RETURN_IF_ERROR(lease.Check("C_FindObjects", rv));
  IMPRINT_RETURN_IF_ERROR(lease.Check("C_FindObjectsFinal", final_rv));
  if (count == 0) return Fail(Code::kNotFound, "no token object with " + ref.Describe());
  if (count > 1) {
    return Fail(Code::kFailedPrecondition, "several token objects with " + ref.Describe());
  }
  return found[0];
}

Result<Bytes> GetAttribute(SessionPool::Lease& lease, CK_OBJECT_HANDLE object,
                           CK_ATTRIBUTE_TYPE type) {
  CK_ATTRIBUTE attr{type, nullptr, 0};
  CK_FUNCTION_LIST* api = lease.api();
  IMPRINT_RETURN_IF_ERROR(lease.Check("C_GetAttributeValue",
                                      api->C_GetAttributeValue(lease.handle(), object, &attr, 1)));
  if (attr.ulValueLen == CK_UNAVAILABLE_INFORMATION) {
    return Fail(Code::kNotFound, "token object attribute unavailable");
  }
  Bytes value(attr.ulValueLen);
  attr.pValue = value.data();
  IMPRINT_RETURN_IF_ERROR(lease.Check("C_GetAttributeValue",
                                      api->C_GetAttributeValue(lease.handle(), object, &attr, 1)));
  value.resize(attr.ulValueLen);
  return value;
}

Result<KeyProtection> ReadKeyProtection(SessionPool::Lease& lease, CK_OBJECT_CLASS object_class,
                                        const ObjectRef& ref) {
  IMPRINT_ASSIGN_OR_RETURN(CK_OBJECT_HANDLE key, FindObject(lease, object_class, ref));
  CK_BBOOL sensitive = CK_FALSE, extractable = CK_TRUE, never = CK_FALSE, always = CK_FALSE;
  CK_ATTRIBUTE attrs[] = {{CKA_SENSITIVE, &sensitive, sizeof(sensitive)},
                          {CKA_EXTRACTABLE, &extractable, sizeof(extractable)},
                          {CKA_NEVER_EXTRACTABLE, &never, sizeof(never)},
                          {CKA_ALWAYS_SENSITIVE, &always, sizeof(always)}};
  IMPRINT_RETURN_IF_ERROR(lease.Check(
      "C_GetAttributeValue", lease.api()->C_GetAttributeValue(lease.handle(), key, attrs, 4)));
  return KeyProtection{sensitive != CK_FALSE, extractable != CK_FALSE, never != CK_FALSE,
                       always != CK_FALSE};
}

Status RequireKeyStaysInToken(SessionPool::Lease& lease, CK_OBJECT_CLASS object_class,
                              const ObjectRef& ref) {
  IMPRINT_ASSIGN_OR_RETURN(KeyProtection p, ReadKeyProtection(lease, object_class, ref));
  const char* broken = !p.sensitive           ? "CKA_SENSITIVE false"
                       : p.extractable        ? "CKA_EXTRACTABLE true"
                       : !p.never_extractable ? "CKA_NEVER_EXTRACTABLE false"
                                              : nullptr;
  if (!broken) return {};
  return Fail(Code::kFailedPrecondition,
              "token key " + ref.Describe() + " has " + broken +
                  ": a CA key must be sensitive and never extractable; make new keys in a "
                  "key ceremony (docs/operations.md)");
}

Result<x509::PkeyPtr> ReadPublicKey(SessionPool::Lease& lease, CK_OBJECT_HANDLE public_key) {
  IMPRINT_ASSIGN_OR_RETURN(Bytes key_type_bytes, GetAttribute(lease, public_key, CKA_KEY_TYPE));
  CK_KEY_TYPE key_type = 0;
  if (key_type_bytes.size() != sizeof(key_type)) {
    return Fail(Code::kInternal, "CKA_KEY_TYPE has an unexpected size");
  }
  std::memcpy(&key_type, key_type_bytes.data(), sizeof(key_type));
  if (key_type == CKK_EC) {
    IMPRINT_ASSIGN_OR_RETURN(Bytes params, GetAttribute(lease, public_key, CKA_EC_PARAMS));
    IMPRINT_ASSIGN_OR_RETURN(Bytes point, GetAttribute(lease, public_key, CKA_EC_POINT));
    return EcPublicKey(params, point);
  }
  if (key_type == CKK_RSA) {
    IMPRINT_ASSIGN_OR_RETURN(Bytes modulus, GetAttribute(lease, public_key, CKA_MODULUS));
    IMPRINT_ASSIGN_OR_RETURN(Bytes exponent, GetAttribute(lease, public_key, CKA_PUBLIC_EXPONENT));
    return RsaPublicKey(modulus, exponent);
  }
  return Fail(Code::kInvalidArgument, "token key is neither EC nor RSA");
}

}  // namespace imprint::p11
