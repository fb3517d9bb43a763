/* A three-stage pipeline over bounded queues: read -> transform -> write, one thread per
 * stage. The transform stage (SLOW_LINE) does three times the work of the others, so it
 * sets the pace: speeding it up speeds the program up; speeding up the other stages only
 * makes them wait longer on the queues. One unit of progress per item written. */
#include <coz.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>

#define QCAP 8

/* A bounded FIFO of item numbers; -1 ends the stream. */
struct queue {
  long items[QCAP];
  int head, len;
  pthread_mutex_t m;
  pthread_cond_t not_empty, not_full;
};

static struct queue q1 = {.m = PTHREAD_MUTEX_INITIALIZER,
                          .not_empty = PTHREAD_COND_INITIALIZER,
                          .not_full = PTHREAD_COND_INITIALIZER};
static struct queue q2 = {.m = PTHREAD_MUTEX_INITIALIZER,
                          .not_empty = PTHREAD_COND_INITIALIZER,
                          .not_full = PTHREAD_COND_INITIALIZER};
static long items, unit;

static void put(struct queue *q, long v) {
  pthread_mutex_lock(&q->m);
  while (q->len == QCAP) pthread_cond_wait(&q->not_full, &q->m);
  q->items[(q->head + q->len) % QCAP] = v;
  q->len++;
  pthread_cond_signal(&q->not_empty);
  pthread_mutex_unlock(&q->m);
}

static long take(struct queue *q) {
  pthread_mutex_lock(&q->m);
  while (q->len == 0) pthread_cond_wait(&q->not_empty, &q->m);
  long v = q->items[q->head];
  q->head = (q->head + 1) % QCAP;
  q->len--;
  pthread_cond_signal(&q->not_full);
  pthread_mutex_unlock(&q->m);
  return v;
}

static void *reader(void *arg) {
  (void)arg;
  for (long n = 0; n < items; n++) {
    volatile unsigned long acc = 0;
    for (long i = 0; i < unit; i++) acc += (unsigned long)i * 5u; /* READ_LINE */
    put(&q1, n);
  }
  put(&q1, -1);
  return NULL;
}

static void *transformer(void *arg) {
  (void)arg;
  for (long n; (n = take(&q1)) >= 0;) {
    volatile unsigned long acc = 0;
    for (long i = 0; i < 3 * unit; i++) acc += (unsigned long)i * 7u; /* SLOW_LINE */
    put(&q2, n);
  }
  put(&q2, -1);
  return NULL;
}

static void *writer(void *arg) {
  long *written = arg;
  for (long n; (n = take(&q2)) >= 0;) {
    volatile unsigned long acc = 0;
    for (long i = 0; i < unit; i++) acc += (unsigned long)i * 3u; /* WRITE_LINE */
    (*written)++;
    COZ_PROGRESS_NAMED("item");
  }
  return NULL;
}

/* pipeline ITEMS UNIT */
int main(int argc, char **argv) {
  items = argc > 1 ? atol(argv[1]) : 2000;
  unit = argc > 2 ? atol(argv[2]) : 500000;
  long written = 0;
  pthread_t r, t, w;
  pthread_create(&r, NULL, reader, NULL);
  pthread_create(&t, NULL, transformer, NULL);
  pthread_create(&w, NULL, writer, &written);
  pthread_join(r, NULL);
  pthread_join(t, NULL);
  pthread_join(w, NULL);
  printf("wrote %ld items\n", written);
  return 0;
}
