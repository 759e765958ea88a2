/* The two DER structures the agent writes itself: a PKCS#10 certification request for its
 * P-256 key (RFC 2986) and an ECDSA-Sig-Value (RFC 5480 / SEC 1). */
#ifndef IMPRINT_DER_H
#define IMPRINT_DER_H

#include <stddef.h>
#include <stdint.h>

#include "imprint_port.h"

#ifdef __cplusplus
extern "C" {
#endif

/* SEQUENCE { INTEGER r, INTEGER s } from r || s. Returns its length (at most 72), 0 if it
 * does not fit. */
size_t imprint_der_ecdsa_signature(const uint8_t raw[64], uint8_t *out, size_t cap);

/* A CSR with subject CN=common_name (1 to 64 bytes, UTF8String), the key's public point and no
 * attributes, signed ecdsa-with-SHA256 by the key. Returns its length, 0 on failure. */
size_t imprint_der_csr(const imprint_crypto *crypto, const uint8_t *key_ref, size_t key_ref_len,
                       const char *common_name, uint8_t *out, size_t cap);

#ifdef __cplusplus
}
#endif

#endif
