#include "imprint_agent.h"

#include <string.h>

#include "imprint_der.h"
#include "imprint_pb.h"

/* gRPC's status codes, which the RESPONSE frame carries. */
enum {
  STATUS_OK = 0,
  STATUS_INVALID_ARGUMENT = 3,
  STATUS_RESOURCE_EXHAUSTED = 8,
  STATUS_FAILED_PRECONDITION = 9,
  STATUS_UNIMPLEMENTED = 12,
  STATUS_INTERNAL = 13,
  STATUS_DATA_LOSS = 15
};

#define MIN_NONCE 16u
#define MAX_NONCE 64u
#define MAX_SECRET_NAME 64u
#define MAX_SECRET_VALUE 1024u

/* What a handler leaves for the response frame. */
typedef struct {
  uint8_t status;
  size_t length;
} answer;

static answer fail(imprint_agent *a, uint8_t status, const char *message) {
  size_t n = strlen(message);
  if (n > sizeof a->response) n = sizeof a->response;
  memcpy(a->response, message, n);
  answer out = {status, n};
  return out;
}

static answer ok(size_t length) {
  answer out = {STATUS_OK, length};
  return out;
}

static int printable(const uint8_t *s, size_t n) {
  for (size_t i = 0; i < n; ++i) {
    if (s[i] < 0x20 || s[i] > 0x7E) return 0;
  }
  return 1;
}

/* Reads the stored record back into memory; a device whose record is gone is factory new. */
static void reload(imprint_agent *a) {
  size_t stored = 0;
  int loaded = a->storage.load(a->storage.ctx, a->record_buf, sizeof a->record_buf, &stored);
  if (loaded == 0 && imprint_record_parse(a->record_buf, stored, &a->record) == 0) {
    a->record_len = stored;
    return;
  }
  memset(&a->record, 0, sizeof a->record);
  a->record.state = IMPRINT_STATE_FACTORY_NEW;
  a->record_len = 0;
}

/* Makes the record the caller encoded into record_buf the durable one. On a failed save the
 * stored record is read back, so memory never runs ahead of storage. */
static int commit_record(imprint_agent *a, size_t len) {
  if (a->storage.save(a->storage.ctx, a->record_buf, len) == 0) {
    a->record_len = len;
    if (imprint_record_parse(a->record_buf, len, &a->record) == 0) return 0;
  }
  reload(a);
  return -1;
}

static answer get_identity(imprint_agent *a) {
  imprint_pb_writer w;
  imprint_pb_writer_init(&w, a->response, sizeof a->response);
  imprint_pb_put_string(&w, 1, a->info.hardware_id);
  imprint_pb_put_string(&w, 2, a->info.model);
  imprint_pb_put_string(&w, 3, a->info.firmware_version);
  imprint_pb_put_varint(&w, 4, a->record.state);
  if (a->record.state == IMPRINT_STATE_COMMITTED) {
    imprint_pb_put_bytes(&w, 5, a->record.certificate.data, a->record.certificate.len);
  }
  if (w.overflow) return fail(a, STATUS_INTERNAL, "identity does not fit a response");
  return ok(w.len);
}

static answer create_key_and_csr(imprint_agent *a, const uint8_t *req, size_t len) {
  uint64_t key_type = 0;
  int fresh = 0;
  imprint_pb_reader r;
  imprint_pb_field f;
  int more;
  imprint_pb_reader_init(&r, req, len);
  while ((more = imprint_pb_next(&r, &f)) == 1) {
    if (f.number == 1 && f.wire_type == IMPRINT_PB_VARINT) key_type = f.varint;
    if (f.number == 2 && f.wire_type == IMPRINT_PB_VARINT) fresh = f.varint != 0;
  }
  if (more < 0) return fail(a, STATUS_INVALID_ARGUMENT, "malformed CreateKeyAndCsrRequest");
  if (a->record.state == IMPRINT_STATE_COMMITTED) {
    return fail(a, STATUS_FAILED_PRECONDITION, "device is committed and locked");
  }
  if (key_type > 1) return fail(a, STATUS_INVALID_ARGUMENT, "this device makes EC P-256 keys only");
  if (a->record.state == IMPRINT_STATE_FACTORY_NEW || fresh) {
    uint8_t ref[IMPRINT_KEY_REF_MAX];
    size_t ref_len = 0;
    if (a->crypto.generate_key(a->crypto.ctx, ref, sizeof ref, &ref_len) != 0 || ref_len == 0 ||
        ref_len > sizeof ref) {
      return fail(a, STATUS_INTERNAL, "key generation failed");
    }
    imprint_record fresh_record;
    memset(&fresh_record, 0, sizeof fresh_record);
    fresh_record.state = IMPRINT_STATE_KEY_GENERATED;
    fresh_record.key_ref.data = ref;
    fresh_record.key_ref.len = ref_len;
    size_t n = imprint_record_encode(&fresh_record, a->record_buf, sizeof a->record_buf);
    memset(ref, 0, sizeof ref);
    if (n == 0) reload(a);
    if (n == 0 || commit_record(a, n) != 0) {
      return fail(a, STATUS_INTERNAL, "the key could not be stored");
    }
  }
  uint8_t csr[512];
  size_t csr_len = imprint_der_csr(&a->crypto, a->record.key_ref.data, a->record.key_ref.len,
                                   a->info.hardware_id, csr, sizeof csr);
  if (csr_len == 0) return fail(a, STATUS_INTERNAL, "the CSR could not be made");
  imprint_pb_writer w;
  imprint_pb_writer_init(&w, a->response, sizeof a->response);
  imprint_pb_put_bytes(&w, 1, csr, csr_len);
  return ok(w.len);
}

/* Reads InstallCredentialsRequest into `staged` (spans into req) and checks what the device
 * can check without crypto. NULL when it is acceptable, else the reason. */
static const char *read_credentials(const uint8_t *req, size_t len, imprint_record *staged) {
  imprint_pb_reader r;
  imprint_pb_field f;
  int more;
  imprint_pb_reader_init(&r, req, len);
  while ((more = imprint_pb_next(&r, &f)) == 1) {
    if (f.wire_type != IMPRINT_PB_LEN) continue;
    imprint_span value = {f.data, f.length};
    if (f.number == 1) {
      staged->certificate = value;
    } else if (f.number == 2) {
      if (staged->chain_count == IMPRINT_MAX_CHAIN) return "chain must hold 1 to 4 certificates";
      staged->chain[staged->chain_count++] = value;
    } else if (f.number == 3) {
      if (staged->secret_count == IMPRINT_MAX_SECRETS) return "too many secrets";
      imprint_pb_reader sr;
      imprint_pb_field sf;
      imprint_span name = {NULL, 0}, secret = {NULL, 0};
      imprint_pb_reader_init(&sr, f.data, f.length);
      while ((more = imprint_pb_next(&sr, &sf)) == 1) {
        if (sf.wire_type != IMPRINT_PB_LEN) continue;
        imprint_span v = {sf.data, sf.length};
        if (sf.number == 1) name = v;
        if (sf.number == 2) secret = v;
      }
      if (more < 0) return "malformed InstallCredentialsRequest";
      static const char kPasscode[] = "matter_passcode";
      if (name.len == sizeof kPasscode - 1 && memcmp(name.data, kPasscode, name.len) == 0) {
        return "a Matter device must never be given its passcode";
      }
      if (name.len == 0 || name.len > MAX_SECRET_NAME || !printable(name.data, name.len) ||
          secret.len == 0 || secret.len > MAX_SECRET_VALUE || !printable(secret.data, secret.len)) {
        return "a secret is malformed";
      }
      staged->secret_name[staged->secret_count] = name;
      staged->secret_value[staged->secret_count++] = secret;
    }
  }
  if (more < 0) return "malformed InstallCredentialsRequest";
  if (staged->certificate.len == 0) return "no certificate";
  if (staged->chain_count == 0) return "chain must hold 1 to 4 certificates";
  return NULL;
}

static answer install_credentials(imprint_agent *a, const uint8_t *req, size_t len) {
  if (a->record.state == IMPRINT_STATE_COMMITTED) {
    return fail(a, STATUS_FAILED_PRECONDITION, "device is committed and locked");
  }
  if (a->record.state == IMPRINT_STATE_FACTORY_NEW) {
    return fail(a, STATUS_FAILED_PRECONDITION, "device has no key yet");
  }
  imprint_record staged;
  memset(&staged, 0, sizeof staged);
  const char *why = read_credentials(req, len, &staged);
  if (why != NULL) return fail(a, STATUS_INVALID_ARGUMENT, why);
  uint8_t ref[IMPRINT_KEY_REF_MAX];
  size_t ref_len = a->record.key_ref.len;
  memcpy(ref, a->record.key_ref.data, ref_len);
  uint8_t point[65];
  if (a->crypto.public_key(a->crypto.ctx, ref, ref_len, point) != 0) {
    memset(ref, 0, sizeof ref);
    return fail(a, STATUS_INTERNAL, "the device key cannot be read");
  }
  const uint8_t *chain[IMPRINT_MAX_CHAIN];
  size_t chain_len[IMPRINT_MAX_CHAIN];
  for (size_t i = 0; i < staged.chain_count; ++i) {
    chain[i] = staged.chain[i].data;
    chain_len[i] = staged.chain[i].len;
  }
  char reason[160] = "";
  if (a->crypto.check_certificate(a->crypto.ctx, point, staged.certificate.data,
                                  staged.certificate.len, chain, chain_len, staged.chain_count,
                                  a->info.root_sha256, reason, sizeof reason) != 0) {
    memset(ref, 0, sizeof ref);
    reason[sizeof reason - 1] = 0;
    return fail(a, STATUS_INVALID_ARGUMENT, reason[0] ? reason : "certificate refused");
  }
  /* Staged durably: a reset before Commit keeps what was checked (the station's next step,
   * ProveIdentity, needs it). */
  staged.state = IMPRINT_STATE_CREDENTIALS_STAGED;
  staged.key_ref.data = ref;
  staged.key_ref.len = ref_len;
  size_t n = imprint_record_encode(&staged, a->record_buf, sizeof a->record_buf);
  memset(ref, 0, sizeof ref);
  if (n == 0) {
    reload(a); /* record_buf was overwritten: read the stored one back */
    return fail(a, STATUS_RESOURCE_EXHAUSTED, "credentials do not fit the device's record");
  }
  if (commit_record(a, n) != 0) return fail(a, STATUS_INTERNAL, "credentials could not be stored");
  return ok(0);
}

static answer prove_identity(imprint_agent *a, const uint8_t *req, size_t len) {
  imprint_pb_reader r;
  imprint_pb_field f;
  int more;
  const uint8_t *nonce = NULL;
  size_t nonce_len = 0;
  imprint_pb_reader_init(&r, req, len);
  while ((more = imprint_pb_next(&r, &f)) == 1) {
    if (f.number == 1 && f.wire_type == IMPRINT_PB_LEN) {
      nonce = f.data;
      nonce_len = f.length;
    }
  }
  if (more < 0) return fail(a, STATUS_INVALID_ARGUMENT, "malformed ProveIdentityRequest");
  /* A committed device still proves its identity: a station checks that before it counts the
   * device as already provisioned. */
  if (a->record.state != IMPRINT_STATE_CREDENTIALS_STAGED &&
      a->record.state != IMPRINT_STATE_COMMITTED) {
    return fail(a, STATUS_FAILED_PRECONDITION, "no credentials installed");
  }
  if (nonce_len < MIN_NONCE || nonce_len > MAX_NONCE) {
    return fail(a, STATUS_INVALID_ARGUMENT, "nonce must be 16 to 64 bytes");
  }
  /* "imprint-prove-identity-v1" || 0x00 || nonce */
  static const char kContext[] = "imprint-prove-identity-v1";
  uint8_t message[sizeof kContext + MAX_NONCE];
  memcpy(message, kContext, sizeof kContext);
  memcpy(message + sizeof kContext, nonce, nonce_len);
  uint8_t digest[32], raw[64], der[72];
  a->crypto.sha256(a->crypto.ctx, message, sizeof kContext + nonce_len, digest);
  if (a->crypto.sign(a->crypto.ctx, a->record.key_ref.data, a->record.key_ref.len, digest, raw) !=
      0) {
    return fail(a, STATUS_INTERNAL, "signing failed");
  }
  size_t der_len = imprint_der_ecdsa_signature(raw, der, sizeof der);
  imprint_pb_writer w;
  imprint_pb_writer_init(&w, a->response, sizeof a->response);
  imprint_pb_put_bytes(&w, 1, der, der_len);
  return ok(w.len);
}

static answer commit(imprint_agent *a) {
  if (a->record.state == IMPRINT_STATE_COMMITTED) {
    return fail(a, STATUS_FAILED_PRECONDITION, "device is committed and locked");
  }
  if (a->record.state != IMPRINT_STATE_CREDENTIALS_STAGED) {
    return fail(a, STATUS_FAILED_PRECONDITION, "no credentials installed");
  }
  /* The commit point: the staged record saved again with the state COMMITTED. */
  imprint_record_set_state(a->record_buf, a->record_len, IMPRINT_STATE_COMMITTED);
  if (commit_record(a, a->record_len) != 0) {
    return fail(a, STATUS_INTERNAL, "the commit could not be stored");
  }
  return ok(0);
}

static answer dispatch(imprint_agent *a, uint8_t method, const uint8_t *req, size_t len) {
  switch (method) {
    case IMPRINT_METHOD_GET_IDENTITY:
      return get_identity(a);
    case IMPRINT_METHOD_CREATE_KEY_AND_CSR:
      return create_key_and_csr(a, req, len);
    case IMPRINT_METHOD_INSTALL_CREDENTIALS:
      return install_credentials(a, req, len);
    case IMPRINT_METHOD_PROVE_IDENTITY:
      return prove_identity(a, req, len);
    case IMPRINT_METHOD_COMMIT:
      return commit(a);
    case IMPRINT_METHOD_ATTEST:
      return fail(a, STATUS_UNIMPLEMENTED, "this device has no Matter attestation");
    case IMPRINT_METHOD_GET_KEY_ATTESTATION:
    case IMPRINT_METHOD_ATTEST_KEY:
      return fail(a, STATUS_FAILED_PRECONDITION, "this device's key is not in a TPM");
    default:
      return fail(a, STATUS_UNIMPLEMENTED, "unknown method");
  }
}

static void send_frame(imprint_agent *a, uint8_t type, uint16_t seq, uint8_t code,
                       const uint8_t *payload, size_t len) {
  imprint_frame out = {type, seq, code, payload, (uint16_t)len};
  a->tx_len = imprint_frame_encode(&out, a->tx_buf, sizeof a->tx_buf);
  if (a->tx_len > 0) a->link.send(a->link.ctx, a->tx_buf, a->tx_len);
}

void imprint_agent_handle_frame(imprint_agent *a, const imprint_frame *frame) {
  if (frame->type == IMPRINT_FRAME_HELLO) {
    /* HELLO starts a session: payload min and max version; the answer is the version chosen
     * and the largest request payload this device takes. */
    a->have_last = 0;
    if (frame->length < 2 || frame->payload[0] > IMPRINT_PROTOCOL_VERSION ||
        frame->payload[1] < IMPRINT_PROTOCOL_VERSION) {
      static const char kNo[] = "unsupported protocol version";
      send_frame(a, IMPRINT_FRAME_HELLO_ACK, frame->seq, STATUS_FAILED_PRECONDITION,
                 (const uint8_t *)kNo, sizeof kNo - 1);
      return;
    }
    uint8_t ack[3] = {IMPRINT_PROTOCOL_VERSION, (uint8_t)(IMPRINT_AGENT_MAX_REQUEST & 0xFF),
                      (uint8_t)(IMPRINT_AGENT_MAX_REQUEST >> 8)};
    send_frame(a, IMPRINT_FRAME_HELLO_ACK, frame->seq, STATUS_OK, ack, sizeof ack);
    return;
  }
  if (frame->type != IMPRINT_FRAME_REQUEST) return; /* a device answers; it takes no answers */
  if (a->have_last && frame->seq == a->last_seq) {
    /* The station did not hear the answer: the same answer again, the step not done twice. */
    ++a->stats.repeated;
    if (a->tx_len > 0) a->link.send(a->link.ctx, a->tx_buf, a->tx_len);
    return;
  }
  answer out = dispatch(a, frame->code, frame->payload, frame->length);
  send_frame(a, IMPRINT_FRAME_RESPONSE, frame->seq, out.status, a->response, out.length);
  a->last_seq = frame->seq;
  a->have_last = 1;
}

void imprint_agent_receive(imprint_agent *a, const uint8_t *bytes, size_t len) {
  for (size_t i = 0; i < len; ++i) {
    imprint_frame frame;
    switch (imprint_rx_push(&a->rx, bytes[i], &frame)) {
      case IMPRINT_RX_FRAME:
        ++a->stats.frames;
        imprint_agent_handle_frame(a, &frame);
        break;
      case IMPRINT_RX_BAD_CRC:
        ++a->stats.bad_crc;
        break;
      case IMPRINT_RX_MALFORMED:
        ++a->stats.malformed;
        break;
      case IMPRINT_RX_OVERSIZE:
        ++a->stats.oversize;
        break;
      default:
        break;
    }
  }
}

int imprint_agent_start(imprint_agent *a, const imprint_device_info *info, const imprint_link *link,
                        const imprint_storage *storage, const imprint_crypto *crypto) {
  memset(a, 0, sizeof *a);
  a->info = *info;
  a->link = *link;
  a->storage = *storage;
  a->crypto = *crypto;
  imprint_rx_init(&a->rx, a->rx_buf, sizeof a->rx_buf);
  size_t stored = 0;
  int loaded = a->storage.load(a->storage.ctx, a->record_buf, sizeof a->record_buf, &stored);
  if (loaded == 1) {
    a->record.state = IMPRINT_STATE_FACTORY_NEW;
    return 0;
  }
  if (loaded != 0 || imprint_record_parse(a->record_buf, stored, &a->record) != 0) return -1;
  a->record_len = stored;
  return 0;
}
