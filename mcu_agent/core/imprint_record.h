/* The agent's one durable record (docs/porting.md): state, the key's reference, and once
 * installed the certificate, chain and secrets. Laid out as
 *   "IMR1" | state (1 byte) | entries: tag (1), length (2, little-endian), value | CRC-32
 * so a torn or altered record is refused rather than believed. */
#ifndef IMPRINT_RECORD_H
#define IMPRINT_RECORD_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define IMPRINT_MAX_CHAIN 4u
#define IMPRINT_MAX_SECRETS 16u
#define IMPRINT_RECORD_STATE_OFFSET 4u

/* The states of proto/imprint/v1/agent.proto's ProvisioningState. */
enum {
  IMPRINT_STATE_FACTORY_NEW = 1,
  IMPRINT_STATE_KEY_GENERATED = 2,
  IMPRINT_STATE_CREDENTIALS_STAGED = 3,
  IMPRINT_STATE_COMMITTED = 4
};

typedef struct {
  const uint8_t *data;
  size_t len;
} imprint_span;

typedef struct {
  uint8_t state;
  imprint_span key_ref;
  imprint_span certificate;
  imprint_span chain[IMPRINT_MAX_CHAIN];
  size_t chain_count;
  imprint_span secret_name[IMPRINT_MAX_SECRETS];
  imprint_span secret_value[IMPRINT_MAX_SECRETS];
  size_t secret_count;
} imprint_record;

/* 0: parsed, the spans point into buf; -1: not a whole, valid record. */
int imprint_record_parse(const uint8_t *buf, size_t len, imprint_record *record);
/* Writes the record into out (whose bytes no span may point into). Returns its length, or 0
 * when it does not fit. */
size_t imprint_record_encode(const imprint_record *record, uint8_t *out, size_t cap);
/* Sets the state of an encoded record in place and renews its CRC. */
void imprint_record_set_state(uint8_t *buf, size_t len, uint8_t state);

#ifdef __cplusplus
}
#endif

#endif
