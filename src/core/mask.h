/* Placeholder until the mask module lands; replaced on merge. */
#ifndef PARLEY_MASK_H
#define PARLEY_MASK_H
#include <stdbool.h>
#include <stddef.h>
#define MASK_MAX 128
bool mask_match(const char *mask, size_t mlen, const char *s, size_t slen);
size_t mask_normalize(const char *in, size_t n, char *out, size_t cap);
#endif
