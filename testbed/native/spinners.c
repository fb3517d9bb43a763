/* Two named threads, each burning CPU in its own function. Usage: spinners ITERATIONS */
#define _GNU_SOURCE
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>

static long iterations;
static volatile unsigned long sink_a, sink_b;

__attribute__((noinline)) void spin_alpha(void) {
    unsigned long x = 1;
    for (long i = 0; i < iterations; i++) x = x * 6364136223846793005UL + 1;
    sink_a = x;
}

__attribute__((noinline)) void spin_beta(void) {
    unsigned long x = 2;
    for (long i = 0; i < iterations; i++) x = x * 2862933555777941757UL + 3;
    sink_b = x;
}

static void *run_alpha(void *arg) {
    (void)arg;
    pthread_setname_np(pthread_self(), "alpha-worker");
    spin_alpha();
    return NULL;
}

static void *run_beta(void *arg) {
    (void)arg;
    pthread_setname_np(pthread_self(), "beta-worker");
    spin_beta();
    return NULL;
}

int main(int argc, char **argv) {
    iterations = argc > 1 ? atol(argv[1]) : 300000000;
    pthread_t a, b;
    pthread_create(&a, NULL, run_alpha, NULL);
    pthread_create(&b, NULL, run_beta, NULL);
    pthread_join(a, NULL);
    pthread_join(b, NULL);
    printf("%lu %lu\n", sink_a, sink_b);
    return 0;
}
