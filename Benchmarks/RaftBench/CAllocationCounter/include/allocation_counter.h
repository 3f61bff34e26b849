// Counts calls to malloc, calloc and realloc while enabled (raft-bench only: linking this
// target replaces the process's malloc with a counting wrapper around glibc's).
#ifndef ALLOCATION_COUNTER_H
#define ALLOCATION_COUNTER_H
void allocation_counter_start(void);
unsigned long allocation_counter_stop(void);
#endif
