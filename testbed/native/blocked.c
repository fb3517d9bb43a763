/* Threads that block: LOCKERS on a pthread mutex held by main, READERS in read() on a pipe.
 * Prints "ready" once all are started, then waits for a line on stdin, releases everyone,
 * joins them and prints "done". Usage: blocked LOCKERS READERS */
#define _GNU_SOURCE
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

static pthread_mutex_t big_lock = PTHREAD_MUTEX_INITIALIZER;
static int pipe_fds[2];
static volatile long counter;

__attribute__((noinline)) void take_big_lock(void) {
    pthread_mutex_lock(&big_lock);
    counter++;
    pthread_mutex_unlock(&big_lock);
}

__attribute__((noinline)) void wait_for_input(void) {
    char c;
    if (read(pipe_fds[0], &c, 1) == 1) counter++;
}

static void *locker(void *arg) {
    (void)arg;
    pthread_setname_np(pthread_self(), "locker");
    take_big_lock();
    return NULL;
}

static void *reader(void *arg) {
    (void)arg;
    pthread_setname_np(pthread_self(), "reader");
    wait_for_input();
    return NULL;
}

int main(int argc, char **argv) {
    int lockers = argc > 1 ? atoi(argv[1]) : 3;
    int readers = argc > 2 ? atoi(argv[2]) : 2;
    if (pipe(pipe_fds) != 0) return 2;
    pthread_mutex_lock(&big_lock);
    pthread_t *t = calloc(lockers + readers, sizeof *t);
    for (int i = 0; i < lockers; i++) pthread_create(&t[i], NULL, locker, NULL);
    for (int i = 0; i < readers; i++) pthread_create(&t[lockers + i], NULL, reader, NULL);
    printf("ready\n");
    fflush(stdout);
    char line[64];
    if (!fgets(line, sizeof line, stdin)) return 3;
    pthread_mutex_unlock(&big_lock);
    for (int i = 0; i < readers; i++)
        if (write(pipe_fds[1], "x", 1) != 1) return 4;
    for (int i = 0; i < lockers + readers; i++) pthread_join(t[i], NULL);
    printf("done %ld\n", counter);
    return counter == lockers + readers ? 0 : 5;
}
