/* The host program's devices: each an agent with its mbedTLS crypto, its file store and its
 * serial end, all served by one poll loop until SIGINT or SIGTERM. */
#ifndef IMPRINT_HOST_H
#define IMPRINT_HOST_H

#include <stddef.h>
#include <stdint.h>

typedef struct {
  const char *serial;      /* one device on this tty; NULL: simulate `count` on new ptys */
  unsigned baud;           /* 0: leave the tty's speed */
  unsigned count;          /* simulated devices */
  const char *store;       /* one device's store, or the parent of the simulated ones' */
  const char *hardware_id; /* one device */
  const char *id_prefix;   /* simulated: PREFIX-00001 ... */
  const char *model;
  const uint8_t *root_sha256;
  const char *devices_file; /* simulated: write serial:PATH a line here */
  unsigned reset_permille;  /* simulated: a device resets instead of answering, this often */
  unsigned seed;
} imprint_host_options;

/* Runs until a termination signal; prints each device's link as it starts. 0 on a clean end. */
int imprint_host_run(const imprint_host_options *options);

#endif
