/* The value of a shared cache entry as bytes (cache_shared.c stores them
 * in its slots). Internal to the library. */
#ifndef CR_CACHE_SHARED_CODEC_H
#define CR_CACHE_SHARED_CODEC_H
#include <stddef.h>
#include "result.h"

/* Writes r's code, depth, message, hint, user, realm, anchor and roles
 * into buf: the length used, or 0 when they do not fit in cap. */
size_t cr_shcache_encode(const certrole_result *r, unsigned char *buf, size_t cap);

/* Fills r (fresh, from cr_result_new) from exactly len bytes: 0, or -1
 * when they are not one well-formed value (r then holds whatever was read
 * and is freed by the caller). */
int cr_shcache_decode(certrole_result *r, const unsigned char *data, size_t len);
#endif
