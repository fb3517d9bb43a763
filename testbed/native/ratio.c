/* Two functions doing the same kind of work in a 2:1 ratio, interleaved in small rounds so
 * that any slowdown of the machine hits both alike. Usage: ratio ROUNDS */
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
    for (long r = 0; r < rounds; r++) {
        work_twice(1000000);
        work_once(1000000);
    }
    printf("%lu\n", sink);
    /* The workload's own CPU time, profiler interrupts included, for bench/record.sh. */
    struct timespec ts;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    fprintf(stderr, "work_cpu_s %.3f\n", ts.tv_sec + ts.tv_nsec / 1e9);
    return 0;
}
