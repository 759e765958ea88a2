/* The host's serial ends: an existing tty (a USB serial adapter, a socat pty) set raw at a
 * baud rate, or a new pseudo-terminal whose other end a station opens. */
#ifndef IMPRINT_TTY_H
#define IMPRINT_TTY_H

#include <stddef.h>

/* Opens PATH raw (8N1, no flow control, no echo) at `baud`; the fd, or -1. */
int imprint_tty_open(const char *path, unsigned baud);
/* A new pseudo-terminal: returns the master fd (non-blocking), writes the other end's path and
 * keeps *keep_open (that end, held open so the master never reads EIO between stations). */
int imprint_pty_open(char *path, size_t cap, int *keep_open);
/* Writes every byte within 1 s, or gives up (the station will retransmit). */
void imprint_tty_write(int fd, const unsigned char *bytes, size_t len);

#endif
