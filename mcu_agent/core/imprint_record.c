#include "imprint_record.h"

#include <string.h>

#include "imprint_frame.h"

enum {
  TAG_KEY_REF = 1,
  TAG_CERTIFICATE = 2,
  TAG_CHAIN = 3,
  TAG_SECRET_NAME = 4,
  TAG_SECRET_VALUE = 5
};

static const uint8_t kMagic[4] = {'I', 'M', 'R', '1'};

static uint32_t read_le32(const uint8_t *p) {
  return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static void write_le32(uint8_t *p, uint32_t v) {
  p[0] = (uint8_t)v;
  p[1] = (uint8_t)(v >> 8);
  p[2] = (uint8_t)(v >> 16);
  p[3] = (uint8_t)(v >> 24);
}

int imprint_record_parse(const uint8_t *buf, size_t len, imprint_record *record) {
  memset(record, 0, sizeof *record);
  if (len < sizeof kMagic + 1 + 4 || memcmp(buf, kMagic, sizeof kMagic) != 0) return -1;
  size_t body = len - 4;
  if (imprint_crc32(0, buf, body) != read_le32(buf + body)) return -1;
  record->state = buf[IMPRINT_RECORD_STATE_OFFSET];
  if (record->state < IMPRINT_STATE_FACTORY_NEW || record->state > IMPRINT_STATE_COMMITTED)
    return -1;
  size_t pos = sizeof kMagic + 1;
  while (pos < body) {
    if (body - pos < 3) return -1;
    uint8_t tag = buf[pos];
    size_t n = (size_t)buf[pos + 1] | (size_t)buf[pos + 2] << 8;
    pos += 3;
    if (n > body - pos) return -1;
    imprint_span value = {buf + pos, n};
    pos += n;
    switch (tag) {
      case TAG_KEY_REF:
        record->key_ref = value;
        break;
      case TAG_CERTIFICATE:
        record->certificate = value;
        break;
      case TAG_CHAIN:
        if (record->chain_count == IMPRINT_MAX_CHAIN) return -1;
        record->chain[record->chain_count++] = value;
        break;
      case TAG_SECRET_NAME:
        if (record->secret_count == IMPRINT_MAX_SECRETS) return -1;
        record->secret_name[record->secret_count] = value;
        break;
      case TAG_SECRET_VALUE:
        if (record->secret_count == IMPRINT_MAX_SECRETS) return -1;
        if (record->secret_name[record->secret_count].len == 0) return -1;
        record->secret_value[record->secret_count++] = value;
        break;
      default:
        return -1;
    }
  }
  /* A key reference from KEY_GENERATED on; credentials from CREDENTIALS_STAGED on. */
  if ((record->state >= IMPRINT_STATE_KEY_GENERATED) != (record->key_ref.len > 0)) return -1;
  if ((record->state >= IMPRINT_STATE_CREDENTIALS_STAGED) != (record->certificate.len > 0))
    return -1;
  return 0;
}

typedef struct {
  uint8_t *out;
  size_t cap;
  size_t len;
  int overflow;
} writer;

static void put_entry(writer *w, uint8_t tag, imprint_span value) {
  if (value.len > 0xFFFF || w->cap - w->len < 3 + value.len || w->len > w->cap) {
    w->overflow = 1;
    return;
  }
  w->out[w->len] = tag;
  w->out[w->len + 1] = (uint8_t)value.len;
  w->out[w->len + 2] = (uint8_t)(value.len >> 8);
  memcpy(w->out + w->len + 3, value.data, value.len);
  w->len += 3 + value.len;
}

size_t imprint_record_encode(const imprint_record *record, uint8_t *out, size_t cap) {
  if (cap < sizeof kMagic + 1 + 4) return 0;
  memcpy(out, kMagic, sizeof kMagic);
  out[IMPRINT_RECORD_STATE_OFFSET] = record->state;
  writer w = {out, cap - 4, sizeof kMagic + 1, 0};
  if (record->key_ref.len > 0) put_entry(&w, TAG_KEY_REF, record->key_ref);
  if (record->certificate.len > 0) put_entry(&w, TAG_CERTIFICATE, record->certificate);
  for (size_t i = 0; i < record->chain_count; ++i) put_entry(&w, TAG_CHAIN, record->chain[i]);
  for (size_t i = 0; i < record->secret_count; ++i) {
    put_entry(&w, TAG_SECRET_NAME, record->secret_name[i]);
    put_entry(&w, TAG_SECRET_VALUE, record->secret_value[i]);
  }
  if (w.overflow) return 0;
  write_le32(out + w.len, imprint_crc32(0, out, w.len));
  return w.len + 4;
}

void imprint_record_set_state(uint8_t *buf, size_t len, uint8_t state) {
  buf[IMPRINT_RECORD_STATE_OFFSET] = state;
  write_le32(buf + len - 4, imprint_crc32(0, buf, len - 4));
}
