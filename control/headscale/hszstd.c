// SPDX-License-Identifier: GPL-2.0-only
/*
 * hszstd.c - one compressed MapResponse -> JSON text, with libzstd's streaming decoder (the
 * frame header need not carry the content size: Headscale's "fastest" encoder is not asked to).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include "hszstd.h"
#ifdef MG_HAVE_ZSTD
#include <zstd.h>
#endif

bool hs_zstd_is_frame(const uint8_t *p, size_t len)
{
	return len >= 4 && p[0] == 0x28 && p[1] == 0xb5 && p[2] == 0x2f && p[3] == 0xfd;
}

#ifdef MG_HAVE_ZSTD
bool hs_zstd_available(void)
{
	return true;
}

static int grow(char **buf, size_t *cap, size_t max)
{
	size_t ncap = *cap ? *cap * 2 : 16384;
	char *nb;

	if (*cap >= max + 1)
		return -EMSGSIZE;
	if (ncap > max + 1)
		ncap = max + 1;              /* +1 keeps room for the NUL */
	nb = realloc(*buf, ncap);
	if (!nb)
		return -ENOMEM;
	*buf = nb;
	*cap = ncap;
	return 0;
}

int hs_zstd_decode(const uint8_t *in, size_t len, size_t max, char **out, size_t *outlen)
{
	ZSTD_DCtx *d = ZSTD_createDCtx();
	ZSTD_inBuffer ib = { in, len, 0 };
	char *buf = NULL;
	size_t cap = 0, pos = 0, r = 1;
	int ret = 0;

	if (!d)
		return -ENOMEM;
	/* Until every input byte is consumed and the last frame is complete (r == 0). */
	while (!ret && (ib.pos < ib.size || r != 0)) {
		ZSTD_outBuffer ob;

		if (pos + 1 >= cap && (ret = grow(&buf, &cap, max)))
			break;
		ob = (ZSTD_outBuffer){ buf, cap - 1, pos };
		r = ZSTD_decompressStream(d, &ob, &ib);
		pos = ob.pos;
		if (ZSTD_isError(r))
			ret = -EINVAL;
		else if (r != 0 && ib.pos == ib.size && ob.pos < ob.size)
			ret = -EINVAL;           /* wants more input than there is: truncated */
	}
	ZSTD_freeDCtx(d);
	if (!ret && pos > max)
		ret = -EMSGSIZE;
	if (ret) {
		free(buf);
		return ret;
	}
	if (!buf && !(buf = malloc(1)))
		return -ENOMEM;
	buf[pos] = '\0';
	*out = buf;
	*outlen = pos;
	return 0;
}
#else
bool hs_zstd_available(void)
{
	return false;
}

int hs_zstd_decode(const uint8_t *in, size_t len, size_t max, char **out, size_t *outlen)
{
	(void)in;
	(void)len;
	(void)max;
	*out = NULL;
	*outlen = 0;
	return -ENOTSUP;
}
#endif
