#include "common/allocator.h"

#include <malloc.h>

namespace imprint {

void KeepFreedHeapMemory() {
  // Fixed values also turn off glibc's dynamic thresholds, which would raise them only after
  // the damage. 64 MiB of free heap kept per arena at most; blocks of 4 MiB and up still come
  // from mmap and go back at once.
  mallopt(M_TRIM_THRESHOLD, 64 << 20);
  mallopt(M_TOP_PAD, 1 << 20);
  mallopt(M_MMAP_THRESHOLD, 4 << 20);
}

}  // namespace imprint
