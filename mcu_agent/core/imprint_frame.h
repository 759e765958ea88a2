/* The serial link's frames (docs/agent-protocol.md, "The serial link"): COBS-stuffed, each
 * ended by a zero byte, holding type, sequence number, method or status, length, payload and a
 * CRC-32. No allocation: the caller owns every buffer. */
#ifndef IMPRINT_FRAME_H
#define IMPRINT_FRAME_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define IMPRINT_FRAME_HEADER_BYTES 6u
#define IMPRINT_FRAME_CRC_BYTES 4u
/* The largest payload the protocol allows; a device announces its own, smaller or equal. */
#define IMPRINT_FRAME_PROTOCOL_MAX_PAYLOAD 16384u

/* COBS adds one byte per 254 and one more; the frame adds its two zero delimiters. */
#define IMPRINT_FRAME_ENCODED_MAX(payload)                              \
  (((payload) + IMPRINT_FRAME_HEADER_BYTES + IMPRINT_FRAME_CRC_BYTES) + \
   ((payload) + IMPRINT_FRAME_HEADER_BYTES + IMPRINT_FRAME_CRC_BYTES) / 254u + 3u)

enum imprint_frame_type {
  IMPRINT_FRAME_HELLO = 1,
  IMPRINT_FRAME_HELLO_ACK = 2,
  IMPRINT_FRAME_REQUEST = 3,
  IMPRINT_FRAME_RESPONSE = 4
};

typedef struct {
  uint8_t type;
  uint16_t seq;
  uint8_t code; /* REQUEST: method; RESPONSE and HELLO_ACK: status (0 = OK) */
  const uint8_t *payload;
  uint16_t length;
} imprint_frame;

/* CRC-32 as IEEE 802.3 and zlib compute it (reflected 0xEDB88320, init and final xor ~0);
 * like zlib's crc32(), `crc` is the CRC of what came before (0 to start). */
uint32_t imprint_crc32(uint32_t crc, const uint8_t *data, size_t len);

/* Writes 0x00, the COBS-stuffed frame, 0x00 into out. Returns the bytes written, or 0 when
 * out is too small or the payload is over the protocol's maximum. */
size_t imprint_frame_encode(const imprint_frame *frame, uint8_t *out, size_t cap);

typedef enum {
  IMPRINT_RX_PENDING = 0,   /* no complete frame yet */
  IMPRINT_RX_FRAME = 1,     /* *frame is valid until the next push */
  IMPRINT_RX_EMPTY = 2,     /* a lone delimiter: nothing to report */
  IMPRINT_RX_BAD_CRC = 3,   /* a whole frame whose CRC does not match */
  IMPRINT_RX_MALFORMED = 4, /* bad stuffing, too short, or a length that disagrees */
  IMPRINT_RX_OVERSIZE = 5   /* more bytes than the buffer holds before a delimiter */
} imprint_rx_result;

/* A receiver over a caller's buffer; frames are decoded in place. */
typedef struct {
  uint8_t *buf;
  size_t cap;
  size_t len;
  int overflow;
} imprint_rx;

void imprint_rx_init(imprint_rx *rx, uint8_t *buf, size_t cap);
/* Takes one byte; on a delimiter reports what ended. */
imprint_rx_result imprint_rx_push(imprint_rx *rx, uint8_t byte, imprint_frame *frame);
/* Decodes one frame's stuffed bytes (without delimiters) in place. */
imprint_rx_result imprint_frame_decode(uint8_t *bytes, size_t len, imprint_frame *frame);

#ifdef __cplusplus
}
#endif

#endif
