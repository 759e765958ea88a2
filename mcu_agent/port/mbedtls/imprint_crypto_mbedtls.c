#include "imprint_crypto_mbedtls.h"

#include <mbedtls/ecdsa.h>
#include <mbedtls/ecp.h>
#include <mbedtls/pk.h>
#include <mbedtls/platform_util.h>
#include <mbedtls/sha256.h>
#include <mbedtls/x509_crt.h>
#include <stdio.h>
#include <string.h>

int imprint_mbedtls_init(imprint_mbedtls *m, const char *personal) {
  mbedtls_entropy_init(&m->entropy);
  mbedtls_ctr_drbg_init(&m->drbg);
  return mbedtls_ctr_drbg_seed(&m->drbg, mbedtls_entropy_func, &m->entropy,
                               (const unsigned char *)personal, strlen(personal));
}

void imprint_mbedtls_free(imprint_mbedtls *m) {
  mbedtls_ctr_drbg_free(&m->drbg);
  mbedtls_entropy_free(&m->entropy);
}

/* The key pair a reference names: d from the reference, Q = d·G. */
static int load_key(imprint_mbedtls *m, const uint8_t *ref, size_t ref_len,
                    mbedtls_ecp_keypair *key) {
  mbedtls_ecp_keypair_init(key);
  if (ref_len != 32) return -1;
  if (mbedtls_ecp_read_key(MBEDTLS_ECP_DP_SECP256R1, key, ref, ref_len) != 0) return -1;
  return mbedtls_ecp_mul(&key->grp, &key->Q, &key->d, &key->grp.G, mbedtls_ctr_drbg_random,
                         &m->drbg);
}

static int generate_key(void *ctx, uint8_t *ref, size_t cap, size_t *ref_len) {
  imprint_mbedtls *m = ctx;
  mbedtls_ecp_keypair key;
  mbedtls_ecp_keypair_init(&key);
  int rc = cap < 32 ? -1
                    : mbedtls_ecp_gen_key(MBEDTLS_ECP_DP_SECP256R1, &key, mbedtls_ctr_drbg_random,
                                          &m->drbg);
  if (rc == 0) rc = mbedtls_mpi_write_binary(&key.d, ref, 32);
  if (rc == 0) *ref_len = 32;
  mbedtls_ecp_keypair_free(&key);
  return rc == 0 ? 0 : -1;
}

static int public_key(void *ctx, const uint8_t *ref, size_t ref_len, uint8_t point[65]) {
  mbedtls_ecp_keypair key;
  int rc = load_key(ctx, ref, ref_len, &key);
  size_t olen = 0;
  if (rc == 0) {
    rc = mbedtls_ecp_point_write_binary(&key.grp, &key.Q, MBEDTLS_ECP_PF_UNCOMPRESSED, &olen, point,
                                        65);
  }
  mbedtls_ecp_keypair_free(&key);
  return rc == 0 && olen == 65 ? 0 : -1;
}

static int sign(void *ctx, const uint8_t *ref, size_t ref_len, const uint8_t digest[32],
                uint8_t signature[64]) {
  imprint_mbedtls *m = ctx;
  mbedtls_ecp_keypair key;
  mbedtls_mpi r, s;
  mbedtls_mpi_init(&r);
  mbedtls_mpi_init(&s);
  int rc = load_key(m, ref, ref_len, &key);
  if (rc == 0) {
    rc =
        mbedtls_ecdsa_sign(&key.grp, &r, &s, &key.d, digest, 32, mbedtls_ctr_drbg_random, &m->drbg);
  }
  if (rc == 0) rc = mbedtls_mpi_write_binary(&r, signature, 32);
  if (rc == 0) rc = mbedtls_mpi_write_binary(&s, signature + 32, 32);
  mbedtls_mpi_free(&r);
  mbedtls_mpi_free(&s);
  mbedtls_ecp_keypair_free(&key);
  return rc == 0 ? 0 : -1;
}

static void sha256(void *ctx, const uint8_t *data, size_t len, uint8_t digest[32]) {
  (void)ctx;
  mbedtls_sha256_ret(data, len, digest, 0);
}

static int refuse(char *why, size_t cap, const char *reason) {
  snprintf(why, cap, "%s", reason);
  return -1;
}

static int check_certificate(void *ctx, const uint8_t point[65], const uint8_t *certificate,
                             size_t certificate_len, const uint8_t *const *chain,
                             const size_t *chain_len, size_t chain_count,
                             const uint8_t *root_sha256, char *why, size_t why_cap) {
  (void)ctx;
  if (chain_count == 0) return refuse(why, why_cap, "chain must hold 1 to 4 certificates");
  if (root_sha256 != NULL) {
    uint8_t digest[32];
    mbedtls_sha256_ret(chain[chain_count - 1], chain_len[chain_count - 1], digest, 0);
    if (memcmp(digest, root_sha256, 32) != 0) {
      return refuse(why, why_cap, "chain does not end in this device's trusted CA root");
    }
  }
  mbedtls_x509_crt leaf, root;
  mbedtls_x509_crt_init(&leaf);
  mbedtls_x509_crt_init(&root);
  int rc = -1;
  uint8_t have[65];
  size_t have_len = 0;
  uint32_t flags = 0;
  /* The leaf, then the intermediates, make the chain mbedTLS walks; the last is the anchor. */
  if (mbedtls_x509_crt_parse_der(&leaf, certificate, certificate_len) != 0) {
    refuse(why, why_cap, "certificate is not DER X.509");
    goto done;
  }
  for (size_t i = 0; i + 1 < chain_count; ++i) {
    if (mbedtls_x509_crt_parse_der(&leaf, chain[i], chain_len[i]) != 0) {
      refuse(why, why_cap, "a chain certificate is not DER X.509");
      goto done;
    }
  }
  if (mbedtls_x509_crt_parse_der(&root, chain[chain_count - 1], chain_len[chain_count - 1]) != 0) {
    refuse(why, why_cap, "the root is not DER X.509");
    goto done;
  }
  if (mbedtls_pk_get_type(&leaf.pk) != MBEDTLS_PK_ECKEY ||
      mbedtls_ecp_point_write_binary(&mbedtls_pk_ec(leaf.pk)->grp, &mbedtls_pk_ec(leaf.pk)->Q,
                                     MBEDTLS_ECP_PF_UNCOMPRESSED, &have_len, have,
                                     sizeof have) != 0 ||
      have_len != 65 || memcmp(have, point, 65) != 0) {
    refuse(why, why_cap, "certificate is not for this device's key");
    goto done;
  }
  if (mbedtls_x509_crt_verify(&leaf, &root, NULL, NULL, &flags, NULL, NULL) != 0) {
    char info[120];
    int n = mbedtls_x509_crt_verify_info(info, sizeof info, "", flags);
    if (n > 0 && info[n - 1] == '\n') info[n - 1] = 0;
    snprintf(why, why_cap, "chain does not link: %s", n > 0 ? info : "refused");
    goto done;
  }
  rc = 0;
done:
  mbedtls_x509_crt_free(&leaf);
  mbedtls_x509_crt_free(&root);
  return rc;
}

imprint_crypto imprint_mbedtls_crypto(imprint_mbedtls *m) {
  imprint_crypto crypto = {m, generate_key, public_key, sign, sha256, check_certificate};
  return crypto;
}
