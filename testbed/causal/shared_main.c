/* workers.c with the slow worker in a shared library (shared_work.c): each iteration runs
 * the library's slow loop and this file's fast loop (FAST_LINE) on two threads and waits
 * for both. Built with -DUSE_DLOPEN it dlopens the library instead of linking it, as
 * plugins are loaded: argv[3] if given, else libcausalwork.so found through the
 * executable's $ORIGIN rpath; then it changes directory to argv[4] if given (so a
 * relative argv[3] no longer names the library). */
#include <coz.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>

#ifdef USE_DLOPEN
#include <dlfcn.h>
#include <unistd.h>
static void *(*causal_slow)(void *);
#else
extern long causal_slow_n;
void *causal_slow(void *arg);
#endif

static long fast_n;

static void *fast(void *arg) {
  volatile unsigned long acc = 0;
  for (long i = 0; i < fast_n; i++) acc += (unsigned long)i * 3u; /* FAST_LINE */
  *(unsigned long *)arg = acc;
  return NULL;
}

int main(int argc, char **argv) {
  int iters = argc > 1 ? atoi(argv[1]) : 500;
  long unit = argc > 2 ? atol(argv[2]) : 2000000;
  long *slow_n;
#ifdef USE_DLOPEN
  void *lib = dlopen(argc > 3 ? argv[3] : "libcausalwork.so", RTLD_NOW);
  if (!lib) {
    fprintf(stderr, "dlopen: %s\n", dlerror());
    return 1;
  }
  *(void **)&causal_slow = dlsym(lib, "causal_slow");
  slow_n = dlsym(lib, "causal_slow_n");
  if (!causal_slow || !slow_n) {
    fprintf(stderr, "dlsym: %s\n", dlerror());
    return 1;
  }
  if (argc > 4 && chdir(argv[4]) != 0) {
    perror("chdir");
    return 1;
  }
#else
  slow_n = &causal_slow_n;
#endif
  *slow_n = unit * 2;
  fast_n = unit;
  unsigned long out_slow = 0, out_fast = 0;
  for (int i = 0; i < iters; i++) {
    pthread_t a, b;
    pthread_create(&a, NULL, causal_slow, &out_slow);
    pthread_create(&b, NULL, fast, &out_fast);
    pthread_join(a, NULL);
    pthread_join(b, NULL);
    COZ_PROGRESS_NAMED("iteration");
  }
  printf("done %d iterations (%lu)\n", iters, out_slow ^ out_fast);
  return 0;
}
