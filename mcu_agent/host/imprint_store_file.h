/* The storage port on a host: the record in DIR/record, replaced by temp file, fsync, rename
 * and directory fsync, so a kill at any instant leaves the old record or the new one.
 * IMPRINT_MCU_CRASH_AT="save:N:before|written|renamed" ends the process at that point of the
 * Nth save (the tests kill the agent at every durable step this way). */
#ifndef IMPRINT_STORE_FILE_H
#define IMPRINT_STORE_FILE_H

#include "imprint_port.h"

typedef struct {
  char dir[512];
  unsigned saves;
} imprint_store_file;

/* Makes DIR (0700) if it is missing; 0 on success. */
int imprint_store_file_open(imprint_store_file *s, const char *dir);
imprint_storage imprint_store_file_storage(imprint_store_file *s);

#endif
