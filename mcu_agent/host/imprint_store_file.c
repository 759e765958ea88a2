#define _POSIX_C_SOURCE 200809L
#include "imprint_store_file.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

int imprint_store_file_open(imprint_store_file *s, const char *dir) {
  if (strlen(dir) + 16 > sizeof s->dir) return -1;
  snprintf(s->dir, sizeof s->dir, "%s", dir);
  s->saves = 0;
  if (mkdir(dir, 0700) != 0 && errno != EEXIST) return -1;
  return 0;
}

/* Ends the process where IMPRINT_MCU_CRASH_AT names this point of this save. */
static void maybe_crash(const imprint_store_file *s, const char *point) {
  const char *at = getenv("IMPRINT_MCU_CRASH_AT");
  char want[64];
  snprintf(want, sizeof want, "save:%u:%s", s->saves, point);
  if (at != NULL && strcmp(at, want) == 0) _exit(86);
}

static int load(void *ctx, uint8_t *buf, size_t cap, size_t *len) {
  imprint_store_file *s = ctx;
  char path[600];
  snprintf(path, sizeof path, "%s/record", s->dir);
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) return errno == ENOENT ? 1 : -1;
  size_t got = 0;
  for (;;) {
    if (got == cap) {
      close(fd);
      return -1; /* larger than any record this agent writes */
    }
    ssize_t n = read(fd, buf + got, cap - got);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      close(fd);
      return -1;
    }
    if (n == 0) break;
    got += (size_t)n;
  }
  close(fd);
  *len = got;
  return 0;
}

static int write_all(int fd, const uint8_t *buf, size_t len) {
  while (len > 0) {
    ssize_t n = write(fd, buf, len);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return -1;
    buf += n;
    len -= (size_t)n;
  }
  return 0;
}

static int save(void *ctx, const uint8_t *buf, size_t len) {
  imprint_store_file *s = ctx;
  ++s->saves;
  maybe_crash(s, "before");
  char tmp[600], path[600];
  snprintf(tmp, sizeof tmp, "%s/record.tmp", s->dir);
  snprintf(path, sizeof path, "%s/record", s->dir);
  int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd < 0) return -1;
  int rc = write_all(fd, buf, len) == 0 && fsync(fd) == 0 ? 0 : -1;
  if (close(fd) != 0) rc = -1;
  if (rc != 0) {
    unlink(tmp);
    return -1;
  }
  maybe_crash(s, "written");
  if (rename(tmp, path) != 0) return -1;
  int dir = open(s->dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dir < 0) return -1;
  rc = fsync(dir);
  close(dir);
  maybe_crash(s, "renamed");
  return rc == 0 ? 0 : -1;
}

imprint_storage imprint_store_file_storage(imprint_store_file *s) {
  imprint_storage storage = {s, load, save};
  return storage;
}
