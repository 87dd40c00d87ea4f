/* qsort of pseudo-random ints through libc's comparator callback. */
#include <stdio.h>
#include <stdlib.h>
static int cmp(const void *x, const void *y) {
  int a = *(const int *)x, b = *(const int *)y;
  return (a > b) - (a < b);
}
int main(void) {
  enum { COUNT = 2000 };
  int *v = malloc(sizeof(int) * COUNT);
  srand(42);
  for (int i = 0; i < COUNT; i++) v[i] = rand() % 100000;
  qsort(v, COUNT, sizeof(int), cmp);
  long check = 0;
  for (int i = 0; i < COUNT; i += 97) check += v[i];
  printf("%d %d %ld\n", v[0], v[COUNT - 1], check);
  free(v);
  return 0;
}
