/* base64.c - see base64.h. */
#include "base64.h"

#include <errno.h>
#include <string.h>

static int value_of(char ch)
{
	return ch >= 'A' && ch <= 'Z'   ? ch - 'A'
	       : ch >= 'a' && ch <= 'z' ? ch - 'a' + 26
	       : ch >= '0' && ch <= '9' ? ch - '0' + 52
	       : ch == '+' || ch == '-' ? 62
	       : ch == '/' || ch == '_' ? 63
					: -1;
}

int sl_base64_decode(const char *in, uint8_t *out, size_t size, size_t *len)
{
	uint32_t acc = 0;
	int bits = 0;
	size_t n = 0, end = strlen(in);
	while (end && in[end - 1] == '=')
		end--;
	for (size_t i = 0; i < end; i++) {
		int v = value_of(in[i]);
		if (v < 0)
			return -EINVAL;
		acc = acc << 6 | (uint32_t)v;
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			if (n == size)
				return -EMSGSIZE;
			out[n++] = (uint8_t)(acc >> bits);
		}
	}
	if (bits >= 6) /* a lone character: not the end of any encoding */
		return -EINVAL;
	*len = n;
	return 0;
}
