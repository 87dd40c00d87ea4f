/* String processing: tokenise generated text, upper-case it, count words in
   a chained hash table keyed by strcmp. */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
struct entry { char *word; int count; struct entry *next; };
static struct entry *table[509];
static unsigned hash(const char *s) { unsigned h = 5381; while (*s) h = h * 33 + (unsigned char)*s++; return h % 509; }
int main(void) {
  static const char *syll[] = {"ka", "lo", "mi", "ne", "su", "ta", "ri", "po"};
  char *text = malloc(1500 * 17 + 1);
  size_t len = 0;
  unsigned state = 7;
  for (int w = 0; w < 1500; w++) {
    state = state * 1664525u + 1013904223u;
    int n = 1 + (int)(state >> 29);
    for (int s = 0; s < n; s++) {
      const char *p = syll[(state >> (3 * s + 4)) & 7];
      memcpy(text + len, p, 2);
      len += 2;
    }
    text[len++] = (w % 17 == 16) ? '\n' : ' ';
  }
  text[len] = '\0';
  for (size_t i = 0; i < len; i++) text[i] = (char)toupper((unsigned char)text[i]);
  int distinct = 0;
  for (char *tok = strtok(text, " \n"); tok; tok = strtok(NULL, " \n")) {
    unsigned h = hash(tok);
    struct entry *e = table[h];
    while (e && strcmp(e->word, tok) != 0) e = e->next;
    if (!e) {
      e = malloc(sizeof *e);
      e->word = strdup(tok);
      e->count = 0;
      e->next = table[h];
      table[h] = e;
      distinct++;
    }
    e->count++;
  }
  printf("%d distinct, %zu bytes\n", distinct, len);
  return 0;
}
