/* The slow half of shared_main.c's work, built as a shared library (libcausalwork.so):
 * linked by one build of the program and dlopened by another. Its loop (SLOW_LINE) is the
 * bottleneck, so a causal profiler must rank this library line first. */
#include <pthread.h>

long causal_slow_n;

void *causal_slow(void *arg) {
  volatile unsigned long acc = 0;
  for (long i = 0; i < causal_slow_n; i++) acc += (unsigned long)i * 7u; /* SLOW_LINE */
  *(unsigned long *)arg = acc;
  return NULL;
}
