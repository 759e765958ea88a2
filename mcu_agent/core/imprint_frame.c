#include "imprint_frame.h"

#include <string.h>

uint32_t imprint_crc32(uint32_t crc, const uint8_t *data, size_t len) {
  crc ^= 0xFFFFFFFFu;
  for (size_t i = 0; i < len; ++i) {
    crc ^= data[i];
    for (int bit = 0; bit < 8; ++bit) crc = (crc >> 1) ^ (0xEDB88320u & (0u - (crc & 1u)));
  }
  return crc ^ 0xFFFFFFFFu;
}

/* A COBS encoder fed one byte at a time, so header, payload and CRC need no common buffer. */
typedef struct {
  uint8_t *out;
  size_t cap;
  size_t pos;
  size_t code_pos;
  uint8_t code;
  int overflow;
} cobs_writer;

static void cobs_put(cobs_writer *w, uint8_t byte) {
  if (w->pos < w->cap) {
    w->out[w->pos++] = byte;
  } else {
    w->overflow = 1;
  }
}

static void cobs_open_block(cobs_writer *w) {
  w->code_pos = w->pos;
  w->code = 1;
  cobs_put(w, 0); /* the block's code, filled in when the block closes */
}

static void cobs_close_block(cobs_writer *w) {
  if (!w->overflow) w->out[w->code_pos] = w->code;
}

static void cobs_byte(cobs_writer *w, uint8_t byte) {
  if (byte == 0) {
    cobs_close_block(w);
    cobs_open_block(w);
    return;
  }
  cobs_put(w, byte);
  if (++w->code == 0xFF) {
    cobs_close_block(w);
    cobs_open_block(w);
  }
}

static void cobs_bytes(cobs_writer *w, const uint8_t *data, size_t len) {
  for (size_t i = 0; i < len; ++i) cobs_byte(w, data[i]);
}

size_t imprint_frame_encode(const imprint_frame *frame, uint8_t *out, size_t cap) {
  if (frame->length > IMPRINT_FRAME_PROTOCOL_MAX_PAYLOAD) return 0;
  uint8_t header[IMPRINT_FRAME_HEADER_BYTES] = {
      frame->type, (uint8_t)(frame->seq & 0xFF),    (uint8_t)(frame->seq >> 8),
      frame->code, (uint8_t)(frame->length & 0xFF), (uint8_t)(frame->length >> 8)};
  /* The CRC covers header and payload. */
  uint32_t crc = imprint_crc32(0, header, sizeof header);
  if (frame->length > 0) crc = imprint_crc32(crc, frame->payload, frame->length);
  uint8_t trailer[IMPRINT_FRAME_CRC_BYTES] = {(uint8_t)crc, (uint8_t)(crc >> 8),
                                              (uint8_t)(crc >> 16), (uint8_t)(crc >> 24)};
  cobs_writer w = {out, cap, 0, 0, 0, 0};
  cobs_put(&w, 0); /* ends whatever half frame the peer holds */
  cobs_open_block(&w);
  cobs_bytes(&w, header, sizeof header);
  if (frame->length > 0) cobs_bytes(&w, frame->payload, frame->length);
  cobs_bytes(&w, trailer, sizeof trailer);
  cobs_close_block(&w);
  cobs_put(&w, 0);
  return w.overflow ? 0 : w.pos;
}

imprint_rx_result imprint_frame_decode(uint8_t *bytes, size_t len, imprint_frame *frame) {
  size_t r = 0, w = 0;
  while (r < len) {
    uint8_t code = bytes[r++];
    if (code == 0) return IMPRINT_RX_MALFORMED;
    size_t n = (size_t)code - 1u;
    if (n > len - r) return IMPRINT_RX_MALFORMED;
    memmove(bytes + w, bytes + r, n);
    w += n;
    r += n;
    if (code != 0xFF && r < len) bytes[w++] = 0;
  }
  if (w < IMPRINT_FRAME_HEADER_BYTES + IMPRINT_FRAME_CRC_BYTES) return IMPRINT_RX_MALFORMED;
  size_t body = w - IMPRINT_FRAME_CRC_BYTES;
  uint32_t want = (uint32_t)bytes[body] | (uint32_t)bytes[body + 1] << 8 |
                  (uint32_t)bytes[body + 2] << 16 | (uint32_t)bytes[body + 3] << 24;
  if (imprint_crc32(0, bytes, body) != want) return IMPRINT_RX_BAD_CRC;
  uint16_t length = (uint16_t)(bytes[4] | bytes[5] << 8);
  if (length > IMPRINT_FRAME_PROTOCOL_MAX_PAYLOAD ||
      (size_t)length + IMPRINT_FRAME_HEADER_BYTES != body) {
    return IMPRINT_RX_MALFORMED;
  }
  frame->type = bytes[0];
  frame->seq = (uint16_t)(bytes[1] | bytes[2] << 8);
  frame->code = bytes[3];
  frame->length = length;
  frame->payload = bytes + IMPRINT_FRAME_HEADER_BYTES;
  return IMPRINT_RX_FRAME;
}

void imprint_rx_init(imprint_rx *rx, uint8_t *buf, size_t cap) {
  rx->buf = buf;
  rx->cap = cap;
  rx->len = 0;
  rx->overflow = 0;
}

imprint_rx_result imprint_rx_push(imprint_rx *rx, uint8_t byte, imprint_frame *frame) {
  if (byte != 0) {
    if (rx->len < rx->cap) {
      rx->buf[rx->len++] = byte;
    } else {
      rx->overflow = 1;
    }
    return IMPRINT_RX_PENDING;
  }
  size_t len = rx->len;
  int overflow = rx->overflow;
  rx->len = 0;
  rx->overflow = 0;
  if (overflow) return IMPRINT_RX_OVERSIZE;
  if (len == 0) return IMPRINT_RX_EMPTY;
  return imprint_frame_decode(rx->buf, len, frame);
}
