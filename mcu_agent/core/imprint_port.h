/* What a port of the agent implements (docs/porting.md): the link that carries frames, the
 * storage that keeps one record durably, and the crypto that owns the device key. Every
 * function returns 0 on success unless it says otherwise. The core calls them from the one
 * thread that feeds it bytes. */
#ifndef IMPRINT_PORT_H
#define IMPRINT_PORT_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* The largest key reference a port may hand back (a secure element's slot, or a software
 * key's private scalar). */
#define IMPRINT_KEY_REF_MAX 64u

typedef struct {
  void *ctx;
  /* Sends every byte or none; a link that fails drops the frame (the station retransmits). */
  void (*send)(void *ctx, const uint8_t *bytes, size_t len);
} imprint_link;

typedef struct {
  void *ctx;
  /* Reads the record into buf. 0: read, *len set; 1: there is none (a factory-new device);
   * -1: it cannot be read. */
  int (*load)(void *ctx, uint8_t *buf, size_t cap, size_t *len);
  /* Replaces the record atomically and durably: after a power cut at any instant, load gives
   * the old record or the new one, whole. */
  int (*save)(void *ctx, const uint8_t *buf, size_t len);
} imprint_storage;

typedef struct {
  void *ctx;
  /* Makes a new P-256 key and returns what names it: the core stores this reference with its
   * record and hands it back on every use. */
  int (*generate_key)(void *ctx, uint8_t *ref, size_t cap, size_t *ref_len);
  /* The key's public point, uncompressed (0x04 || X || Y). */
  int (*public_key)(void *ctx, const uint8_t *ref, size_t ref_len, uint8_t point[65]);
  /* ECDSA P-256 over a SHA-256 digest, as r || s (32 bytes each, big-endian). */
  int (*sign)(void *ctx, const uint8_t *ref, size_t ref_len, const uint8_t digest[32],
              uint8_t signature[64]);
  void (*sha256)(void *ctx, const uint8_t *data, size_t len, uint8_t digest[32]);
  /* Checks that `certificate` is for the key with public point `point`, and that the chain
   * (issuing CA first, root last) links and, when root_sha256 is not NULL, ends in the root
   * whose DER has that SHA-256. On failure writes a reason (NUL-terminated) into why. */
  int (*check_certificate)(void *ctx, const uint8_t point[65], const uint8_t *certificate,
                           size_t certificate_len, const uint8_t *const *chain,
                           const size_t *chain_len, size_t chain_count, const uint8_t *root_sha256,
                           char *why, size_t why_cap);
} imprint_crypto;

#ifdef __cplusplus
}
#endif

#endif
