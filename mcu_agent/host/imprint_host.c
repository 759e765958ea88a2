#define _POSIX_C_SOURCE 200809L
#include "imprint_host.h"

#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "imprint_agent.h"
#include "imprint_crypto_mbedtls.h"
#include "imprint_store_file.h"
#include "imprint_tty.h"

typedef struct {
  imprint_agent agent;
  imprint_mbedtls crypto;
  imprint_store_file store;
  char id[72];
  char path[128];
  int fd;
  int keep_open;
  int crypto_ready;
  unsigned reset_permille;
  int resetting; /* the device "lost power" while answering: it answers nothing more */
  unsigned resets;
} device;

static volatile sig_atomic_t stop_requested = 0;

static void on_signal(int signo) {
  (void)signo;
  stop_requested = 1;
}

static void send_bytes(void *ctx, const uint8_t *bytes, size_t len) {
  device *d = ctx;
  if (d->resetting) return;
  if (d->reset_permille > 0 && (unsigned)(rand() % 1000) < d->reset_permille) {
    d->resetting = 1; /* the step ran; its answer is lost with the device's memory */
    return;
  }
  imprint_tty_write(d->fd, bytes, len);
}

static int start_device(device *d, const imprint_host_options *o) {
  imprint_device_info info = {d->id, o->model, "1.0.0-mcu", o->root_sha256};
  imprint_link link = {d, send_bytes};
  imprint_storage storage = imprint_store_file_storage(&d->store);
  imprint_crypto crypto = imprint_mbedtls_crypto(&d->crypto);
  return imprint_agent_start(&d->agent, &info, &link, &storage, &crypto);
}

static int open_device(device *d, const imprint_host_options *o, unsigned index) {
  char dir[600];
  if (o->serial != NULL) {
    snprintf(d->id, sizeof d->id, "%s", o->hardware_id);
    snprintf(dir, sizeof dir, "%s", o->store);
    snprintf(d->path, sizeof d->path, "%s", o->serial);
    d->fd = imprint_tty_open(o->serial, o->baud);
    d->keep_open = -1;
  } else {
    snprintf(d->id, sizeof d->id, "%s-%05u", o->id_prefix, index + 1);
    snprintf(dir, sizeof dir, "%s/%s", o->store, d->id);
    d->fd = imprint_pty_open(d->path, sizeof d->path, &d->keep_open);
    d->reset_permille = o->reset_permille;
  }
  if (d->fd < 0) {
    fprintf(stderr, "imprint-agent-mcu: %s: cannot open the serial link: %s\n", d->id,
            strerror(errno));
    return -1;
  }
  if (imprint_store_file_open(&d->store, dir) != 0) {
    fprintf(stderr, "imprint-agent-mcu: %s: cannot open the store %s\n", d->id, dir);
    return -1;
  }
  d->crypto_ready = 1;
  if (imprint_mbedtls_init(&d->crypto, d->id) != 0) {
    fprintf(stderr, "imprint-agent-mcu: %s: the random generator cannot be seeded\n", d->id);
    return -1;
  }
  if (start_device(d, o) != 0) {
    fprintf(stderr, "imprint-agent-mcu: %s: the stored record is unreadable or damaged\n", d->id);
    return -1;
  }
  return 0;
}

static int write_devices_file(const char *path, device *devices, unsigned count) {
  char tmp[600];
  snprintf(tmp, sizeof tmp, "%s.tmp", path);
  FILE *f = fopen(tmp, "w");
  if (f == NULL) return -1;
  for (unsigned i = 0; i < count; ++i) fprintf(f, "serial:%s\n", devices[i].path);
  if (fclose(f) != 0) return -1;
  return rename(tmp, path);
}

int imprint_host_run(const imprint_host_options *o) {
  unsigned count = o->serial != NULL ? 1 : o->count;
  srand(o->seed);
  /* Every device's memory is taken here, once; the agents allocate nothing after. */
  device *devices = calloc(count, sizeof *devices);
  struct pollfd *polls = calloc(count, sizeof *polls);
  int rc = 1;
  if (devices == NULL || polls == NULL) goto done;
  if (o->serial == NULL && mkdir(o->store, 0700) != 0 && errno != EEXIST) {
    fprintf(stderr, "imprint-agent-mcu: cannot make %s: %s\n", o->store, strerror(errno));
    goto done;
  }
  for (unsigned i = 0; i < count; ++i) {
    devices[i].fd = devices[i].keep_open = -1;
    if (open_device(&devices[i], o, i) != 0) goto done;
    printf("device %s on serial:%s\n", devices[i].id, devices[i].path);
  }
  fflush(stdout);
  if (o->devices_file != NULL && write_devices_file(o->devices_file, devices, count) != 0) {
    fprintf(stderr, "imprint-agent-mcu: cannot write %s\n", o->devices_file);
    goto done;
  }
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_handler = on_signal;
  sigaction(SIGINT, &sa, NULL);
  sigaction(SIGTERM, &sa, NULL);
  while (!stop_requested) {
    for (unsigned i = 0; i < count; ++i) polls[i] = (struct pollfd){devices[i].fd, POLLIN, 0};
    int ready = poll(polls, count, 500);
    if (ready < 0 && errno != EINTR) break;
    for (unsigned i = 0; ready > 0 && i < count; ++i) {
      if ((polls[i].revents & (POLLIN | POLLHUP | POLLERR)) == 0) continue;
      uint8_t chunk[512];
      ssize_t n = read(devices[i].fd, chunk, sizeof chunk);
      if (n <= 0) continue;
      device *d = &devices[i];
      imprint_agent_receive(&d->agent, chunk, (size_t)n);
      if (d->resetting) {
        /* Power comes back: RAM is gone, the record is what storage kept. */
        d->resetting = 0;
        ++d->resets;
        if (start_device(d, o) != 0) {
          fprintf(stderr, "imprint-agent-mcu: %s: record unreadable after a reset\n", d->id);
          goto done;
        }
      }
    }
  }
  rc = 0;
  for (unsigned i = 0; i < count; ++i) {
    const imprint_agent_stats *s = &devices[i].agent.stats;
    if (s->bad_crc + s->malformed + s->oversize + s->repeated + devices[i].resets > 0) {
      fprintf(stderr,
              "%s: %u frames, %u bad CRC, %u malformed, %u oversize, %u repeated, %u resets\n",
              devices[i].id, s->frames, s->bad_crc, s->malformed, s->oversize, s->repeated,
              devices[i].resets);
    }
  }
done:
  if (devices != NULL) {
    for (unsigned i = 0; i < count; ++i) {
      if (devices[i].fd >= 0) close(devices[i].fd);
      if (devices[i].keep_open >= 0) close(devices[i].keep_open);
      if (devices[i].crypto_ready) imprint_mbedtls_free(&devices[i].crypto);
    }
  }
  free(devices);
  free(polls);
  return rc;
}
