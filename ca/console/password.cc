#include "ca/console/password.h"

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/kdf.h>
#include <openssl/rand.h>

#include <cstdio>
#include <memory>
#include <vector>

#include "common/base64.h"
#include "common/bytes.h"

namespace imprint::ca {
namespace {

constexpr uint64_t kLogN = 15;
constexpr uint32_t kR = 8, kP = 1;
constexpr size_t kSaltBytes = 16, kHashBytes = 32;

Result<Bytes> Scrypt(std::string_view password, ByteView salt, uint64_t log_n, uint32_t r,
                     uint32_t p) {
  std::unique_ptr<EVP_KDF, decltype(&EVP_KDF_free)> kdf(EVP_KDF_fetch(nullptr, "SCRYPT", nullptr),
                                                        EVP_KDF_free);
  if (!kdf) return Fail(Code::kInternal, "OpenSSL offers no SCRYPT");
  std::unique_ptr<EVP_KDF_CTX, decltype(&EVP_KDF_CTX_free)> ctx(EVP_KDF_CTX_new(kdf.get()),
                                                                EVP_KDF_CTX_free);
  uint64_t n = uint64_t{1} << log_n;
  OSSL_PARAM params[] = {
      OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_PASSWORD, const_cast<char*>(password.data()),
                                        password.size()),
      OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_SALT, const_cast<uint8_t*>(salt.data()),
                                        salt.size()),
      OSSL_PARAM_construct_uint64(OSSL_KDF_PARAM_SCRYPT_N, &n),
      OSSL_PARAM_construct_uint32(OSSL_KDF_PARAM_SCRYPT_R, &r),
      OSSL_PARAM_construct_uint32(OSSL_KDF_PARAM_SCRYPT_P, &p),
      OSSL_PARAM_construct_end()};
  Bytes out(kHashBytes);
  if (!ctx || EVP_KDF_derive(ctx.get(), out.data(), out.size(), params) != 1) {
    return Fail(Code::kInternal, "scrypt failed");
  }
  return out;
}

std::vector<std::string_view> Split(std::string_view s, char sep) {
  std::vector<std::string_view> parts;
  for (size_t at = 0;;) {
    size_t next = s.find(sep, at);
    parts.push_back(s.substr(at, next == std::string_view::npos ? next : next - at));
    if (next == std::string_view::npos) return parts;
    at = next + 1;
  }
}

}  // namespace

Result<std::string> HashPassword(std::string_view password) {
  Bytes salt(kSaltBytes);
  if (RAND_bytes(salt.data(), static_cast<int>(salt.size())) != 1) {
    return Fail(Code::kInternal, "no random salt");
  }
  IMPRINT_ASSIGN_OR_RETURN(Bytes hash, Scrypt(password, salt, kLogN, kR, kP));
  return "$scrypt$ln=" + std::to_string(kLogN) + ",r=" + std::to_string(kR) +
         ",p=" + std::to_string(kP) + "$" + Base64UrlEncode(salt) + "$" + Base64UrlEncode(hash);
}

bool VerifyPassword(std::string_view stored, std::string_view password) {
  auto parts = Split(stored, '$');
  if (parts.size() != 5 || !parts[0].empty() || parts[1] != "scrypt") return false;
  uint64_t log_n = 0;
  unsigned r = 0, p = 0;
  if (std::sscanf(std::string(parts[2]).c_str(), "ln=%lu,r=%u,p=%u", &log_n, &r, &p) != 3 ||
      log_n < 10 || log_n > 20 || r < 1 || r > 16 || p < 1 || p > 4) {
    return false;
  }
  auto salt = Base64UrlDecode(parts[3]);
  auto expected = Base64UrlDecode(parts[4]);
  if (!salt || !expected || expected->size() != kHashBytes) return false;
  auto hash = Scrypt(password, *salt, log_n, r, p);
  return hash && CRYPTO_memcmp(hash->data(), expected->data(), kHashBytes) == 0;
}

}  // namespace imprint::ca
