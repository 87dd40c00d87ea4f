/* Linked list whose nodes are linked in a pseudo-random order: pointer chasing
   with no spatial locality. */
#include <stdio.h>
#include <stdlib.h>
struct node { struct node *next; long value; char pad[48]; };
#define COUNT 4000
int main(void) {
  struct node *nodes = malloc(sizeof(struct node) * COUNT);
  int *order = malloc(sizeof(int) * COUNT);
  unsigned state = 12345;
  for (int i = 0; i < COUNT; i++) order[i] = i;
  for (int i = COUNT - 1; i > 0; i--) {
    state = state * 1103515245u + 12345u;
    int j = (int)((state >> 8) % (unsigned)(i + 1));
    int t = order[i]; order[i] = order[j]; order[j] = t;
  }
  for (int i = 0; i < COUNT; i++) {
    nodes[order[i]].value = i;
    nodes[order[i]].next = i + 1 < COUNT ? &nodes[order[i + 1]] : NULL;
  }
  long sum = 0;
  for (int pass = 0; pass < 4; pass++)
    for (struct node *p = &nodes[order[0]]; p; p = p->next) sum += p->value;
  printf("%ld\n", sum);
  free(order);
  free(nodes);
  return 0;
}
