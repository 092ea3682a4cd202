/*
 * locality.c - block placement for getFileBlockLocations: a consistent hash ring with weighted
 * virtual nodes over the configured node list, so a logical block maps to the same hosts (and
 * their caches) in every process, and adding or removing a node moves only that node's share.
 *
 * Invariants: the ring is immutable once built (lookups need no lock); points are sorted by
 * (hash, host name), which depends only on the set of hosts and weights, not on their order in
 * the list; nothing is seeded, so every process builds the same ring from the same list.
 */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "vfs.h"

/* Virtual nodes per unit of weight: a host's share of blocks strays from its weight by about
 * 1/sqrt(its points), so 400 keeps a weight-1 host within a few percent. Each point is 8 bytes;
 * the total weight is capped so that a ring stays under 32 MiB. */
#define RING_VNODES_PER_WEIGHT 400
#define RING_MAX_WEIGHT 1000
#define RING_MAX_TOTAL_WEIGHT 10000
#define RING_MAX_HOSTS 65535 /* host indexes fit the low 16 bits of a point */
#define RING_MAX_HOST 255

/* A point is the top 48 bits of its hash above the 16-bit index of its host: sorting the integers
 * sorts by hash, and a 48-bit tie goes to the host first by name (hosts are kept in name order),
 * so the ring never depends on the order of the list. */
struct sl_ring {
	char **hosts;       /* sorted by name */
	uint32_t *weights;
	size_t nhosts;
	uint64_t *points;   /* sorted */
	size_t npoints;
};

#define FNV_OFFSET 0xcbf29ce484222325ULL
#define FNV_PRIME 0x100000001b3ULL

static uint64_t fnv1a(uint64_t h, const void *data, size_t len)
{
	const unsigned char *p = data;
	for (size_t i = 0; i < len; i++) {
		h ^= p[i];
		h *= FNV_PRIME;
	}
	return h;
}

/* FNV-1a alone clusters keys that differ only in their last bytes ("host#1", "host#2"); the
 * murmur3 finalizer spreads them over the whole ring. */
static uint64_t mix64(uint64_t h)
{
	h ^= h >> 33;
	h *= 0xff51afd7ed558ccdULL;
	h ^= h >> 33;
	h *= 0xc4ceb9fe1a85ec53ULL;
	h ^= h >> 33;
	return h;
}

static uint64_t point_hash(const char *host, uint32_t i)
{
	char buf[RING_MAX_HOST + 16];
	int n = snprintf(buf, sizeof(buf), "%s#%u", host, i);
	return mix64(fnv1a(FNV_OFFSET, buf, (size_t)n));
}

/* The key of a logical block: its inode and index, little-endian, so that every platform agrees. */
static uint64_t block_hash(uint64_t ino, uint64_t index)
{
	unsigned char b[16];
	for (int i = 0; i < 8; i++) {
		b[i] = (unsigned char)(ino >> (8 * i));
		b[8 + i] = (unsigned char)(index >> (8 * i));
	}
	return mix64(fnv1a(FNV_OFFSET, b, sizeof(b)));
}

static int u64_cmp(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
	return x < y ? -1 : x > y;
}

struct named {
	char *host;
	uint32_t weight;
};

static int named_cmp(const void *a, const void *b)
{
	return strcmp(((const struct named *)a)->host, ((const struct named *)b)->host);
}

/* Puts the hosts in name order (weights along) so that a host's index, which breaks ties between
 * points, is the same whatever the order of the list. */
static int sort_hosts(struct sl_ring *r, struct sl_err *err)
{
	struct named *v = malloc(r->nhosts * sizeof(*v));
	if (!v)
		return sl_errf(err, -ENOMEM, "out of memory");
	for (size_t i = 0; i < r->nhosts; i++)
		v[i] = (struct named){r->hosts[i], r->weights[i]};
	qsort(v, r->nhosts, sizeof(*v), named_cmp);
	for (size_t i = 0; i < r->nhosts; i++) {
		r->hosts[i] = v[i].host;
		r->weights[i] = v[i].weight;
	}
	free(v);
	return 0;
}

static bool host_char_ok(char c)
{
	return isalnum((unsigned char)c) || c == '.' || c == '-' || c == '_';
}

/* Parses one "host" or "host:weight" entry (already trimmed) into r. */
static int parse_entry(struct sl_ring *r, const char *e, size_t elen, size_t pos,
		       struct sl_err *err)
{
	const char *colon = memchr(e, ':', elen);
	size_t hlen = colon ? (size_t)(colon - e) : elen;
	uint32_t weight = 1;
	if (hlen == 0)
		return sl_errf(err, -EINVAL, "nodes: entry %zu '%.*s' has no host name", pos,
			       (int)(elen > 300 ? 300 : elen), e);
	if (hlen > RING_MAX_HOST)
		return sl_errf(err, -EINVAL, "nodes: entry %zu: host name longer than %d bytes", pos,
			       RING_MAX_HOST);
	for (size_t i = 0; i < hlen; i++)
		if (!host_char_ok(e[i]))
			return sl_errf(err, -EINVAL, "nodes: entry %zu '%.*s': host names may hold only "
				       "letters, digits, '.', '-' and '_'", pos, (int)elen, e);
	if (colon) {
		const char *w = colon + 1;
		size_t wlen = elen - hlen - 1;
		uint64_t v = 0;
		if (wlen == 0 || wlen > 4)
			goto bad_weight;
		for (size_t i = 0; i < wlen; i++) {
			if (!isdigit((unsigned char)w[i]))
				goto bad_weight;
			v = v * 10 + (uint64_t)(w[i] - '0');
		}
		if (v < 1 || v > RING_MAX_WEIGHT)
			goto bad_weight;
		weight = (uint32_t)v;
	}
	for (size_t i = 0; i < r->nhosts; i++)
		if (strlen(r->hosts[i]) == hlen && !memcmp(r->hosts[i], e, hlen))
			return sl_errf(err, -EINVAL, "nodes: entry %zu '%.*s': host listed twice", pos,
				       (int)elen, e);
	char *h = strndup(e, hlen);
	if (!h)
		return sl_errf(err, -ENOMEM, "out of memory");
	r->hosts[r->nhosts] = h;
	r->weights[r->nhosts] = weight;
	r->nhosts++;
	return 0;
bad_weight:
	return sl_errf(err, -EINVAL, "nodes: entry %zu '%.*s': the weight after ':' must be an "
		       "integer from 1 to %d", pos, (int)(elen > 300 ? 300 : elen), e,
		       RING_MAX_WEIGHT);
}

int sl_ring_new(const char *spec, struct sl_ring **out, struct sl_err *err)
{
	*out = NULL;
	if (!spec)
		return sl_errf(err, -EINVAL, "nodes: no node list");
	size_t max = 1;
	for (const char *p = spec; *p; p++)
		max += *p == ',';
	int rc = 0;
	struct sl_ring *r = calloc(1, sizeof(*r));
	if (!r || !(r->hosts = calloc(max, sizeof(char *))) ||
	    !(r->weights = calloc(max, sizeof(uint32_t)))) {
		rc = sl_errf(err, -ENOMEM, "out of memory");
		goto out;
	}
	const char *p = spec;
	for (size_t pos = 1;; pos++) {
		const char *end = strchr(p, ',');
		if (!end)
			end = p + strlen(p);
		const char *s = p, *e = end;
		while (s < e && isspace((unsigned char)*s))
			s++;
		while (e > s && isspace((unsigned char)e[-1]))
			e--;
		if (s == e) {
			rc = sl_errf(err, -EINVAL, "nodes: entry %zu of '%.200s' is empty (expected "
				     "host or host:weight, separated by commas)", pos, spec);
			goto out;
		}
		if ((rc = parse_entry(r, s, (size_t)(e - s), pos, err)))
			goto out;
		if (!*end)
			break;
		p = end + 1;
	}
	if (r->nhosts > RING_MAX_HOSTS) {
		rc = sl_errf(err, -EINVAL, "nodes: %zu hosts; at most %d", r->nhosts, RING_MAX_HOSTS);
		goto out;
	}
	uint64_t total = 0;
	for (size_t i = 0; i < r->nhosts; i++)
		total += r->weights[i];
	if (total > RING_MAX_TOTAL_WEIGHT) {
		rc = sl_errf(err, -EINVAL, "nodes: the weights add up to %llu; at most %d (weights "
			     "are relative: scale them down)", (unsigned long long)total,
			     RING_MAX_TOTAL_WEIGHT);
		goto out;
	}
	if ((rc = sort_hosts(r, err)))
		goto out;
	r->npoints = (size_t)total * RING_VNODES_PER_WEIGHT;
	r->points = malloc(r->npoints * sizeof(*r->points));
	if (!r->points) {
		rc = sl_errf(err, -ENOMEM, "out of memory for %zu ring points", r->npoints);
		goto out;
	}
	size_t k = 0;
	for (size_t i = 0; i < r->nhosts; i++)
		for (uint32_t v = 0; v < r->weights[i] * RING_VNODES_PER_WEIGHT; v++)
			r->points[k++] = (point_hash(r->hosts[i], v) & ~0xffffULL) | i;
	qsort(r->points, r->npoints, sizeof(*r->points), u64_cmp);
	*out = r;
	r = NULL;
out:
	sl_ring_free(r);
	return rc;
}

void sl_ring_free(struct sl_ring *r)
{
	if (!r)
		return;
	if (r->hosts)
		for (size_t i = 0; i < r->nhosts; i++)
			free(r->hosts[i]);
	free(r->hosts);
	free(r->weights);
	free(r->points);
	free(r);
}

size_t sl_ring_nhosts(const struct sl_ring *r)
{
	return r->nhosts;
}

const char *sl_ring_host(const struct sl_ring *r, size_t i)
{
	return i < r->nhosts ? r->hosts[i] : NULL;
}

size_t sl_ring_lookup(const struct sl_ring *r, uint64_t ino, uint64_t index, const char **out,
		      size_t n)
{
	if (n > r->nhosts)
		n = r->nhosts;
	if (!n || !r->npoints)
		return 0;
	/* the first point at or after the block's hash (compared on the 48 bits points keep),
	 * wrapping to the start */
	uint64_t h = block_hash(ino, index) & ~0xffffULL;
	size_t lo = 0, hi = r->npoints;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (r->points[mid] < h)
			lo = mid + 1;
		else
			hi = mid;
	}
	uint32_t got[SL_RING_MAX_REPLICAS];
	if (n > SL_RING_MAX_REPLICAS)
		n = SL_RING_MAX_REPLICAS;
	size_t m = 0;
	for (size_t step = 0; step < r->npoints && m < n; step++) {
		uint32_t host = (uint32_t)(r->points[(lo + step) % r->npoints] & 0xffff);
		bool seen = false;
		for (size_t j = 0; j < m; j++)
			seen |= got[j] == host;
		if (!seen) {
			got[m] = host;
			out[m++] = r->hosts[host];
		}
	}
	return m;
}
