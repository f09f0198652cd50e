// What a second core gives on this machine, for comparing `check`'s one-thread / two-thread
// ratio with: two jobs run one after the other, then at once, three times. Mode 0 is an
// xorshift loop (arithmetic alone); mode 1 the same with random reads and writes over 8 MiB
// per thread (past each core's L2).
//
// usage: gcc -O2 -pthread scripts/bench/two-cores.c -o /tmp/two-cores
//        /tmp/two-cores 400000000 0 && /tmp/two-cores 400000000 1
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static long steps;
static int mode;

static void *job(void *seed) {
    unsigned long x = (unsigned long)seed + 1, sum = 0;
    if (mode == 0) {
        for (long i = 0; i < steps; i++) {
            x ^= x << 13; x ^= x >> 7; x ^= x << 17;
            sum += x;
        }
    } else {
        size_t size = 8 << 20;
        unsigned char *buffer = malloc(size);
        memset(buffer, 1, size);
        for (long i = 0; i < steps / 8; i++) {
            x ^= x << 13; x ^= x >> 7; x ^= x << 17;
            sum += buffer[x % size];
            buffer[(x >> 3) % size]++;
        }
        free(buffer);
    }
    return (void *)sum;
}

static double seconds_for(int threads) {
    struct timespec start, end;
    pthread_t running[2];
    clock_gettime(CLOCK_MONOTONIC, &start);
    for (int i = 0; i < threads; i++) {
        pthread_create(&running[i], 0, job, (void *)(long)i);
    }
    for (int i = 0; i < threads; i++) {
        pthread_join(running[i], 0);
    }
    clock_gettime(CLOCK_MONOTONIC, &end);
    return (end.tv_sec - start.tv_sec) + (end.tv_nsec - start.tv_nsec) / 1e9;
}

int main(int argc, char **argv) {
    if (argc != 3) {
        fprintf(stderr, "usage: %s STEPS MODE(0|1)\n", argv[0]);
        return 2;
    }
    steps = atol(argv[1]);
    mode = atoi(argv[2]);
    for (int round = 0; round < 3; round++) {
        double serial = seconds_for(1) * 2, parallel = seconds_for(2);
        printf("mode %d: 2 jobs one after the other %.3f s, at once %.3f s: %.2fx\n", mode,
               serial, parallel, serial / parallel);
    }
    return 0;
}
