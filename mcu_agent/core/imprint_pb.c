#include "imprint_pb.h"

#include <string.h>

void imprint_pb_reader_init(imprint_pb_reader *r, const uint8_t *data, size_t len) {
  r->p = data;
  r->end = data + len;
}

static int read_varint(imprint_pb_reader *r, uint64_t *value) {
  uint64_t v = 0;
  for (int shift = 0; shift < 64; shift += 7) {
    if (r->p == r->end) return -1;
    uint8_t byte = *r->p++;
    v |= (uint64_t)(byte & 0x7F) << shift;
    if ((byte & 0x80) == 0) {
      *value = v;
      return 0;
    }
  }
  return -1; /* more than ten bytes */
}

static int skip(imprint_pb_reader *r, size_t n) {
  if ((size_t)(r->end - r->p) < n) return -1;
  r->p += n;
  return 0;
}

int imprint_pb_next(imprint_pb_reader *r, imprint_pb_field *field) {
  if (r->p == r->end) return 0;
  uint64_t key;
  if (read_varint(r, &key) != 0) return -1;
  uint64_t number = key >> 3;
  if (number == 0 || number > 536870911u) return -1;
  field->number = (uint32_t)number;
  field->wire_type = (uint8_t)(key & 7);
  field->varint = 0;
  field->data = NULL;
  field->length = 0;
  switch (field->wire_type) {
    case IMPRINT_PB_VARINT:
      return read_varint(r, &field->varint) == 0 ? 1 : -1;
    case IMPRINT_PB_I64:
      return skip(r, 8) == 0 ? 1 : -1;
    case IMPRINT_PB_I32:
      return skip(r, 4) == 0 ? 1 : -1;
    case IMPRINT_PB_LEN: {
      uint64_t length;
      if (read_varint(r, &length) != 0 || length > (uint64_t)(r->end - r->p)) return -1;
      field->data = r->p;
      field->length = (size_t)length;
      r->p += length;
      return 1;
    }
    default:
      return -1; /* groups (3, 4) and unassigned types */
  }
}

void imprint_pb_writer_init(imprint_pb_writer *w, uint8_t *buf, size_t cap) {
  w->buf = buf;
  w->cap = cap;
  w->len = 0;
  w->overflow = 0;
}

static void put_raw_varint(imprint_pb_writer *w, uint64_t v) {
  do {
    uint8_t byte = (uint8_t)(v & 0x7F);
    v >>= 7;
    if (v != 0) byte |= 0x80;
    if (w->len < w->cap) {
      w->buf[w->len++] = byte;
    } else {
      w->overflow = 1;
    }
  } while (v != 0);
}

void imprint_pb_put_varint(imprint_pb_writer *w, uint32_t number, uint64_t value) {
  if (value == 0) return;
  put_raw_varint(w, (uint64_t)number << 3 | IMPRINT_PB_VARINT);
  put_raw_varint(w, value);
}

void imprint_pb_put_bytes(imprint_pb_writer *w, uint32_t number, const uint8_t *data, size_t len) {
  if (len == 0) return;
  put_raw_varint(w, (uint64_t)number << 3 | IMPRINT_PB_LEN);
  put_raw_varint(w, len);
  if (w->cap - w->len < len || w->len > w->cap) {
    w->overflow = 1;
    return;
  }
  memcpy(w->buf + w->len, data, len);
  w->len += len;
}

void imprint_pb_put_string(imprint_pb_writer *w, uint32_t number, const char *text) {
  imprint_pb_put_bytes(w, number, (const uint8_t *)text, strlen(text));
}
