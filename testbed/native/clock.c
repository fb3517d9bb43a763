/* Reads the monotonic clock in a loop: on Linux the reads run in the vDSO, so a profile's
 * samples land in the [vdso] mapping, and a profiler must name the function there. */
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

int main(int argc, char **argv) {
  long n = argc > 1 ? atol(argv[1]) : 30000000;
  unsigned long sum = 0;
  struct timespec t;
  for (long i = 0; i < n; i++) {
    clock_gettime(CLOCK_MONOTONIC, &t);
    sum += (unsigned long)t.tv_nsec;
  }
  printf("%lu\n", sum);
  return 0;
}
