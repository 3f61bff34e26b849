// GNU extensions of glibc that Swift's Glibc module does not expose (they need _GNU_SOURCE).
// Imported by Sources/Services/Support only.
#ifndef CPROCESSSHIMS_H
#define CPROCESSSHIMS_H
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <malloc.h>
#include <pthread.h>
#include <stddef.h>

/// Returns free heap pages of every arena to the system (malloc_trim(3)); 1 when some were.
static inline int CProcessShims_mallocTrim(size_t padBytes) { return malloc_trim(padBytes); }

/// Names the calling thread (at most 15 bytes are kept), for top -H, perf and gdb.
static inline int CProcessShims_setThreadName(const char *name) { return pthread_setname_np(pthread_self(), name); }
#endif
