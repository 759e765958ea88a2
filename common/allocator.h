#pragma once
// Process-wide allocator settings for long-running services.

namespace imprint {

// Stops glibc from handing freed heap memory back to the kernel after every large free.
// Under the CA's load SQLite frees a savepoint's buffers once per request; with glibc's
// default trim threshold each such free shrank a thread arena with madvise, and the TLB
// shootdown that follows interrupted both cores: about a fifth of the CA's CPU per
// certificate (perf: sqlite3PagerSavepoint -> free -> heap_trim -> madvise). Call once, at
// the start of main, before threads exist.
void KeepFreedHeapMemory();

}  // namespace imprint
