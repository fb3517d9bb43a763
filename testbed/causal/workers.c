/* Each iteration starts a slow and a fast worker and waits for both, then counts one unit
 * of progress. The slow worker's loop (SLOW_LINE) is the bottleneck: speeding it up
 * speeds the program up until it is as fast as the fast worker; speeding up the fast
 * worker's loop (FAST_LINE) does nothing. Build with -DSLOW_SCALE=0.75 for a variant whose
 * slow loop does 25% less work. */
#include <coz.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>

#ifndef SLOW_SCALE
#define SLOW_SCALE 1.0
#endif

static long slow_n, fast_n;

/* Each worker counts in its own (volatile, so the loop is really run) local: a shared
 * counter would bounce one cache line between the cores and couple the two workers. */
static void *slow(void *arg) {
  volatile unsigned long acc = 0;
  for (long i = 0; i < slow_n; i++) acc += (unsigned long)i * 7u; /* SLOW_LINE */
  *(unsigned long *)arg = acc;
  return NULL;
}

static void *fast(void *arg) {
  volatile unsigned long acc = 0;
  for (long i = 0; i < fast_n; i++) acc += (unsigned long)i * 3u; /* FAST_LINE */
  *(unsigned long *)arg = acc;
  return NULL;
}

int main(int argc, char **argv) {
  int iters = argc > 1 ? atoi(argv[1]) : 500;
  long unit = argc > 2 ? atol(argv[2]) : 2000000;
  slow_n = (long)(unit * 2 * SLOW_SCALE);
  fast_n = unit;
  unsigned long out_slow = 0, out_fast = 0;
  for (int i = 0; i < iters; i++) {
    pthread_t a, b;
    pthread_create(&a, NULL, slow, &out_slow);
    pthread_create(&b, NULL, fast, &out_fast);
    pthread_join(a, NULL);
    pthread_join(b, NULL);
    COZ_PROGRESS_NAMED("iteration");
  }
  printf("done %d iterations (%lu)\n", iters, out_slow ^ out_fast);
  return 0;
}
