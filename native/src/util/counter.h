/*
 * counter.h - event counters that many threads add to and that statistics read now and then:
 * relaxed, so a count costs one atomic add and readers get no snapshot consistent across
 * counters.
 */
#ifndef SL_COUNTER_H
#define SL_COUNTER_H

#include <stdatomic.h>
#include <stdint.h>

static inline void sl_stat_add(atomic_uint_fast64_t *c, uint64_t v)
{
	atomic_fetch_add_explicit(c, v, memory_order_relaxed);
}

#endif
