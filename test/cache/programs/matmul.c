/* Dense matrix multiply, i-k-j order: streams rows of B, reuses rows of C. */
#include <stdio.h>
#define N 40
static double a[N][N], b[N][N], c[N][N];
int main(void) {
  for (int i = 0; i < N; i++)
    for (int j = 0; j < N; j++) {
      a[i][j] = (i * 7 + j) % 13;
      b[i][j] = (i + 3 * j) % 11;
    }
  for (int i = 0; i < N; i++)
    for (int k = 0; k < N; k++)
      for (int j = 0; j < N; j++) c[i][j] += a[i][k] * b[k][j];
  double sum = 0;
  for (int i = 0; i < N; i++) sum += c[i][(i * 5) % N];
  printf("%.1f\n", sum);
  return 0;
}
