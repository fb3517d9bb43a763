/* Two functions doing the same kind of work in a 2:1 ratio, interleaved in rounds so that
 * any slowdown of the machine hits both alike. Usage: ratio ROUNDS [N]: each round runs N
 * steps of work_once (default 1000000, about 1.4 ms here). For a profile's ratio, make a
 * round many sample periods long: a round of a few periods aliases with the sampling, and
 * 1000 Hz on 1M-step rounds gave ratios from 1.94 to 2.12; 10M-step rounds gave 1.99-2.01. */
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

static volatile unsigned long sink;

#define SPIN(n)                                              \
    do {                                                     \
        unsigned long x = sink;                              \
        for (long i = 0; i < (n); i++)                       \
            x = x * 6364136223846793005UL + 1442695040888963407UL; \
        sink = x;                                            \
    } while (0)

__attribute__((noinline)) void work_twice(long n) { SPIN(2 * n); }
__attribute__((noinline)) void work_once(long n) { SPIN(n); }

int main(int argc, char **argv) {
    long rounds = argc > 1 ? atol(argv[1]) : 200;
    long n = argc > 2 ? atol(argv[2]) : 1000000;
    for (long r = 0; r < rounds; r++) {
        work_twice(n);
        work_once(n);
    }
    printf("%lu\n", sink);
    /* The workload's own CPU time, profiler interrupts included, for bench/record.sh. */
    struct timespec ts;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    fprintf(stderr, "work_cpu_s %.3f\n", ts.tv_sec + ts.tv_nsec / 1e9);
    return 0;
}
