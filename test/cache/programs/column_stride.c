/* Column-major walk of a row-major array: one access per line, a large
   footprint, so a small LL misses often. */
#include <stdio.h>
#define ROWS 256
#define COLS 256
static int grid[ROWS][COLS];
int main(void) {
  long sum = 0;
  for (int r = 0; r < ROWS; r++)
    for (int c = 0; c < COLS; c += 16) grid[r][c] = r ^ c;
  for (int pass = 0; pass < 2; pass++)
    for (int c = 0; c < COLS; c += 3)
      for (int r = 0; r < ROWS; r++) sum += grid[r][c];
  printf("%ld\n", sum);
  return 0;
}
