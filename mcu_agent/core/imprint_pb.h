/* The protobuf wire format (protobuf.dev/programming-guides/encoding), as much as the agent
 * messages need: varints and length-delimited fields, read in place and written into a
 * caller's buffer. Unknown fields are skipped, as proto3 requires. */
#ifndef IMPRINT_PB_H
#define IMPRINT_PB_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

enum { IMPRINT_PB_VARINT = 0, IMPRINT_PB_I64 = 1, IMPRINT_PB_LEN = 2, IMPRINT_PB_I32 = 5 };

typedef struct {
  const uint8_t *p;
  const uint8_t *end;
} imprint_pb_reader;

typedef struct {
  uint32_t number;
  uint8_t wire_type;
  uint64_t varint;     /* IMPRINT_PB_VARINT */
  const uint8_t *data; /* IMPRINT_PB_LEN: points into the message */
  size_t length;
} imprint_pb_field;

void imprint_pb_reader_init(imprint_pb_reader *r, const uint8_t *data, size_t len);
/* 1: *field holds the next field; 0: the message ended; -1: malformed. */
int imprint_pb_next(imprint_pb_reader *r, imprint_pb_field *field);

typedef struct {
  uint8_t *buf;
  size_t cap;
  size_t len;
  int overflow; /* set once anything did not fit; the message is then unusable */
} imprint_pb_writer;

void imprint_pb_writer_init(imprint_pb_writer *w, uint8_t *buf, size_t cap);
/* proto3 leaves zero values and empty bytes out; these do the same. */
void imprint_pb_put_varint(imprint_pb_writer *w, uint32_t number, uint64_t value);
void imprint_pb_put_bytes(imprint_pb_writer *w, uint32_t number, const uint8_t *data, size_t len);
void imprint_pb_put_string(imprint_pb_writer *w, uint32_t number, const char *text);

#ifdef __cplusplus
}
#endif

#endif
