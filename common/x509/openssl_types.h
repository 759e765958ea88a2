#pragma once
// Owning handles for every OpenSSL type imprint uses. No *_free call appears anywhere else.

#include <openssl/asn1.h>
#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/param_build.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <memory>

namespace imprint::x509 {

// sk_X509_free is a macro; the deleter needs a function.
inline void FreeX509Stack(STACK_OF(X509) * stack) { sk_X509_free(stack); }

template <auto Free>
struct Deleter {
  void operator()(auto* p) const noexcept { Free(p); }
};
template <typename T, auto Free>
using Owned = std::unique_ptr<T, Deleter<Free>>;

using AlgorPtr = Owned<X509_ALGOR, X509_ALGOR_free>;
using Asn1IntegerPtr = Owned<ASN1_INTEGER, ASN1_INTEGER_free>;
using Asn1ObjectPtr = Owned<ASN1_OBJECT, ASN1_OBJECT_free>;
using Asn1OctetStringPtr = Owned<ASN1_OCTET_STRING, ASN1_OCTET_STRING_free>;
using Asn1TimePtr = Owned<ASN1_TIME, ASN1_TIME_free>;
using BigNumPtr = Owned<BIGNUM, BN_free>;
// For secret values: wiped before they are freed.
using SecretBigNumPtr = Owned<BIGNUM, BN_clear_free>;
using BioPtr = Owned<BIO, BIO_free_all>;
using BnCtxPtr = Owned<BN_CTX, BN_CTX_free>;
using EcGroupPtr = Owned<EC_GROUP, EC_GROUP_free>;
using EcPointPtr = Owned<EC_POINT, EC_POINT_clear_free>;
using EcdsaSigPtr = Owned<ECDSA_SIG, ECDSA_SIG_free>;
using ExtKeyUsagePtr = Owned<EXTENDED_KEY_USAGE, EXTENDED_KEY_USAGE_free>;
using GeneralNamesPtr = Owned<GENERAL_NAMES, GENERAL_NAMES_free>;
using GeneralNamePtr = Owned<GENERAL_NAME, GENERAL_NAME_free>;
using MdCtxPtr = Owned<EVP_MD_CTX, EVP_MD_CTX_free>;
using MdPtr = Owned<EVP_MD, EVP_MD_free>;
using ParamBldPtr = Owned<OSSL_PARAM_BLD, OSSL_PARAM_BLD_free>;
using ParamPtr = Owned<OSSL_PARAM, OSSL_PARAM_free>;
using PkeyCtxPtr = Owned<EVP_PKEY_CTX, EVP_PKEY_CTX_free>;
using PkeyPtr = Owned<EVP_PKEY, EVP_PKEY_free>;
using StoreCtxPtr = Owned<X509_STORE_CTX, X509_STORE_CTX_free>;
using StorePtr = Owned<X509_STORE, X509_STORE_free>;
using X509ExtensionPtr = Owned<X509_EXTENSION, X509_EXTENSION_free>;
using X509NamePtr = Owned<X509_NAME, X509_NAME_free>;
using X509Ptr = Owned<X509, X509_free>;
using X509ReqPtr = Owned<X509_REQ, X509_REQ_free>;
using X509StackPtr = Owned<STACK_OF(X509), FreeX509Stack>;

// Takes a new reference to `key` (EVP_PKEY_up_ref) and owns it.
PkeyPtr ShareKey(EVP_PKEY* key);
// Takes a new reference to `cert` (X509_up_ref) and owns it.
X509Ptr ShareCert(X509* cert);

}  // namespace imprint::x509
