#include "imprint_der.h"

#include <string.h>

/* id-ecPublicKey, prime256v1 (RFC 5480 2.1.1) and ecdsa-with-SHA256 (RFC 5758 3.2). */
static const uint8_t kSpkiPrefix[] = {0x30, 0x59, 0x30, 0x13, 0x06, 0x07, 0x2A, 0x86, 0x48,
                                      0xCE, 0x3D, 0x02, 0x01, 0x06, 0x08, 0x2A, 0x86, 0x48,
                                      0xCE, 0x3D, 0x03, 0x01, 0x07, 0x03, 0x42, 0x00};
static const uint8_t kEcdsaSha256[] = {0x30, 0x0A, 0x06, 0x08, 0x2A, 0x86,
                                       0x48, 0xCE, 0x3D, 0x04, 0x03, 0x02};
static const uint8_t kCommonNameOid[] = {0x06, 0x03, 0x55, 0x04, 0x03};

/* Tag and length (definite, short or long form up to 65535). Returns the bytes written. */
static size_t put_header(uint8_t *out, uint8_t tag, size_t len) {
  out[0] = tag;
  if (len < 0x80) {
    out[1] = (uint8_t)len;
    return 2;
  }
  if (len < 0x100) {
    out[1] = 0x81;
    out[2] = (uint8_t)len;
    return 3;
  }
  out[1] = 0x82;
  out[2] = (uint8_t)(len >> 8);
  out[3] = (uint8_t)len;
  return 4;
}

static size_t header_size(size_t len) { return len < 0x80 ? 2 : len < 0x100 ? 3 : 4; }

/* An unsigned big-endian integer as a DER INTEGER: no leading zero bytes unless the next
 * byte's top bit would make it negative. */
static size_t put_integer(uint8_t *out, const uint8_t *value, size_t len) {
  size_t skip = 0;
  while (skip + 1 < len && value[skip] == 0) ++skip;
  int pad = (value[skip] & 0x80) != 0;
  size_t n = len - skip + (size_t)pad;
  size_t pos = put_header(out, 0x02, n);
  if (pad) out[pos++] = 0;
  memcpy(out + pos, value + skip, len - skip);
  return pos + len - skip;
}

size_t imprint_der_ecdsa_signature(const uint8_t raw[64], uint8_t *out, size_t cap) {
  uint8_t body[2 * 35];
  size_t n = put_integer(body, raw, 32);
  n += put_integer(body + n, raw + 32, 32);
  if (cap < 2 + n) return 0;
  size_t pos = put_header(out, 0x30, n);
  memcpy(out + pos, body, n);
  return pos + n;
}

size_t imprint_der_csr(const imprint_crypto *crypto, const uint8_t *key_ref, size_t key_ref_len,
                       const char *common_name, uint8_t *out, size_t cap) {
  size_t cn_len = strlen(common_name);
  if (cn_len == 0 || cn_len > 64) return 0;
  uint8_t point[65];
  if (crypto->public_key(crypto->ctx, key_ref, key_ref_len, point) != 0 || point[0] != 0x04) {
    return 0;
  }
  /* Name: SEQUENCE { SET { SEQUENCE { OID CN, UTF8String } } }; each the content length. */
  size_t atv = sizeof kCommonNameOid + 2 + cn_len;
  size_t rdn = 2 + atv;
  size_t name = 2 + rdn;
  size_t spki = sizeof kSpkiPrefix + sizeof point;
  size_t info_body = 3 + 2 + name + spki + 2;
  size_t info = header_size(info_body) + info_body;
  size_t max_total = 4 + info + sizeof kEcdsaSha256 + 3 + 72;
  if (cap < max_total) return 0;

  /* The CertificationRequestInfo goes at offset 4, leaving room for the outer header. */
  uint8_t *p = out + 4;
  size_t pos = put_header(p, 0x30, info_body);
  static const uint8_t kVersion0[] = {0x02, 0x01, 0x00};
  memcpy(p + pos, kVersion0, sizeof kVersion0);
  pos += sizeof kVersion0;
  pos += put_header(p + pos, 0x30, name);
  pos += put_header(p + pos, 0x31, rdn);
  pos += put_header(p + pos, 0x30, atv);
  memcpy(p + pos, kCommonNameOid, sizeof kCommonNameOid);
  pos += sizeof kCommonNameOid;
  pos += put_header(p + pos, 0x0C, cn_len);
  memcpy(p + pos, common_name, cn_len);
  pos += cn_len;
  memcpy(p + pos, kSpkiPrefix, sizeof kSpkiPrefix);
  pos += sizeof kSpkiPrefix;
  memcpy(p + pos, point, sizeof point);
  pos += sizeof point;
  p[pos++] = 0xA0; /* attributes [0] IMPLICIT SET OF, empty */
  p[pos++] = 0x00;

  uint8_t digest[32], raw[64], signature[72];
  crypto->sha256(crypto->ctx, p, pos, digest);
  if (crypto->sign(crypto->ctx, key_ref, key_ref_len, digest, raw) != 0) return 0;
  size_t sig_len = imprint_der_ecdsa_signature(raw, signature, sizeof signature);
  if (sig_len == 0 || sig_len > sizeof signature) return 0;
  memcpy(p + pos, kEcdsaSha256, sizeof kEcdsaSha256);
  pos += sizeof kEcdsaSha256;
  pos += put_header(p + pos, 0x03, sig_len + 1);
  p[pos++] = 0x00; /* no unused bits */
  memcpy(p + pos, signature, sig_len);
  pos += sig_len;

  size_t outer = header_size(pos);
  put_header(out, 0x30, pos);
  memmove(out + outer, p, pos);
  return outer + pos;
}
