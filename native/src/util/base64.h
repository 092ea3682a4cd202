/* base64.h - decoding of the base64 text that carries binary secrets in settings and token files. */
#ifndef SL_BASE64_H
#define SL_BASE64_H

#include <stddef.h>
#include <stdint.h>

/* Decodes standard base64 (padding optional; the URL-safe alphabet is accepted too) into at most
 * size bytes; *len gets the count. -EINVAL for text that is not base64, -EMSGSIZE when the bytes
 * do not fit. */
int sl_base64_decode(const char *in, uint8_t *out, size_t size, size_t *len);

#endif
