/* A trial for short-lived process benchmarks: lives about `argv[1]` microseconds
   (default 1000) and exits. Built at test time twice: with `gcc -static` and
   dynamically linked, so static and dynamic execs can be measured apart. */
#include <stdlib.h>
#include <time.h>

int main(int argc, char** argv) {
  long us = argc > 1 ? atol(argv[1]) : 1000;
  struct timespec ts = {us / 1000000, (us % 1000000) * 1000};
  nanosleep(&ts, 0);
  return 0;
}
