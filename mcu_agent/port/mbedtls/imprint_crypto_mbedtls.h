/* The agent's crypto over mbedTLS 2.28: keys are P-256 private scalars (32 bytes) held in the
 * record, as a part without a secure element would keep them in protected flash; a port with
 * a secure element or PSA key store returns a slot reference instead (docs/porting.md). */
#ifndef IMPRINT_CRYPTO_MBEDTLS_H
#define IMPRINT_CRYPTO_MBEDTLS_H

#include <mbedtls/ctr_drbg.h>
#include <mbedtls/entropy.h>

#include "imprint_port.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct {
  mbedtls_entropy_context entropy;
  mbedtls_ctr_drbg_context drbg;
} imprint_mbedtls;

/* Seeds the DRBG from the platform's entropy; 0 on success. `personal` separates devices that
 * share one entropy source (the host simulator). */
int imprint_mbedtls_init(imprint_mbedtls *m, const char *personal);
void imprint_mbedtls_free(imprint_mbedtls *m);
imprint_crypto imprint_mbedtls_crypto(imprint_mbedtls *m);

#ifdef __cplusplus
}
#endif

#endif
