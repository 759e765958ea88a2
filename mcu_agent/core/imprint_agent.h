/* The device side of imprint.v1.DeviceAgent over the serial link (docs/agent-protocol.md):
 * fed the bytes the link receives, it answers every frame through the port's link. One agent
 * is one device; it allocates nothing, so a firmware holds it in static memory. */
#ifndef IMPRINT_AGENT_H
#define IMPRINT_AGENT_H

#include <stddef.h>
#include <stdint.h>

#include "imprint_frame.h"
#include "imprint_port.h"
#include "imprint_record.h"

#ifdef __cplusplus
extern "C" {
#endif

/* The largest request payload this agent takes (announced in HELLO_ACK), the largest response
 * it writes, and the record's size: a port may change them at build time. */
#ifndef IMPRINT_AGENT_MAX_REQUEST
#define IMPRINT_AGENT_MAX_REQUEST 4096u
#endif
#ifndef IMPRINT_AGENT_MAX_RESPONSE
#define IMPRINT_AGENT_MAX_RESPONSE 1536u
#endif
#ifndef IMPRINT_AGENT_RECORD_MAX
#define IMPRINT_AGENT_RECORD_MAX 4608u
#endif

#define IMPRINT_PROTOCOL_VERSION 1u

/* The methods of imprint.v1.DeviceAgent, in the order of agent.proto. */
enum {
  IMPRINT_METHOD_GET_IDENTITY = 1,
  IMPRINT_METHOD_CREATE_KEY_AND_CSR = 2,
  IMPRINT_METHOD_INSTALL_CREDENTIALS = 3,
  IMPRINT_METHOD_PROVE_IDENTITY = 4,
  IMPRINT_METHOD_COMMIT = 5,
  IMPRINT_METHOD_ATTEST = 6,
  IMPRINT_METHOD_GET_KEY_ATTESTATION = 7,
  IMPRINT_METHOD_ATTEST_KEY = 8
};

typedef struct {
  const char *hardware_id;      /* 1 to 64 printable ASCII characters */
  const char *model;            /* at most 64 */
  const char *firmware_version; /* at most 64 */
  /* SHA-256 of the DER root the firmware trusts; NULL accepts a chain to any root. */
  const uint8_t *root_sha256;
} imprint_device_info;

/* What the link delivered that was not a frame (for the host's diagnostics). */
typedef struct {
  uint32_t frames;
  uint32_t bad_crc;
  uint32_t malformed;
  uint32_t oversize;
  uint32_t repeated; /* requests answered again from the cache */
} imprint_agent_stats;

typedef struct {
  imprint_device_info info;
  imprint_link link;
  imprint_storage storage;
  imprint_crypto crypto;
  uint8_t record_buf[IMPRINT_AGENT_RECORD_MAX];
  size_t record_len;
  imprint_record record;
  uint8_t rx_buf[IMPRINT_FRAME_ENCODED_MAX(IMPRINT_AGENT_MAX_REQUEST)];
  imprint_rx rx;
  uint8_t response[IMPRINT_AGENT_MAX_RESPONSE];
  /* The last response as sent, answered again to a repeated request (same sequence number). */
  uint8_t tx_buf[IMPRINT_FRAME_ENCODED_MAX(IMPRINT_AGENT_MAX_RESPONSE)];
  size_t tx_len;
  uint16_t last_seq;
  int have_last;
  imprint_agent_stats stats;
} imprint_agent;

/* Loads the device's record. 0: started; -1: the stored record cannot be read or is not a
 * valid record (the device must not invent a new identity over it). */
int imprint_agent_start(imprint_agent *agent, const imprint_device_info *info,
                        const imprint_link *link, const imprint_storage *storage,
                        const imprint_crypto *crypto);

/* Takes bytes from the link; answers each whole frame before returning. */
void imprint_agent_receive(imprint_agent *agent, const uint8_t *bytes, size_t len);

/* Handles one decoded frame (imprint_agent_receive calls it; fuzzers call it directly). */
void imprint_agent_handle_frame(imprint_agent *agent, const imprint_frame *frame);

#ifdef __cplusplus
}
#endif

#endif
