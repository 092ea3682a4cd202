/*
 * stats.c - sluice_stats: the counters a volume handle keeps, by name, for whoever shows them
 * (the Hadoop client's IOStatistics, benchmarks). Relaxed counters read one by one: totals, not
 * a consistent cut across them.
 */
#include <stdio.h>

#include "vfs.h"

static uint64_t get(const atomic_uint_fast64_t *c)
{
	return atomic_load_explicit(c, memory_order_relaxed);
}

void sluice_stats(sluice_volume *vol, sluice_counter_fn fn, void *arg)
{
	const struct sl_volume_core *v = &vol->core;
	const struct sl_obj_stats *o = &v->store->stats;
	fn(arg, "object.puts", get(&o->puts));
	fn(arg, "object.gets", get(&o->gets));
	fn(arg, "object.heads", get(&o->heads));
	fn(arg, "object.deletes", get(&o->dels));
	fn(arg, "object.lists", get(&o->lists));
	fn(arg, "object.retries", get(&o->retries));
	fn(arg, "object.errors", get(&o->errors));
	fn(arg, "object.put_bytes", get(&o->put_bytes));
	fn(arg, "object.get_bytes", get(&o->get_bytes));

	const struct sl_read_stats *r = &v->reads;
	fn(arg, "block_reads.memory", get(&r->memory));
	fn(arg, "block_reads.disk", get(&r->disk));
	fn(arg, "block_reads.staged", get(&r->staged));
	fn(arg, "block_reads.peers", get(&r->peers));
	fn(arg, "block_reads.object", get(&r->object));

	const struct sl_flush_stats *f = &v->flush;
	fn(arg, "hflush.calls", get(&f->hflushes));
	fn(arg, "hflush.staged_blocks", get(&f->stage.stages));
	fn(arg, "hflush.stage_ns", get(&f->stage.stage_ns));
	fn(arg, "hflush.stage_sync_ns", get(&f->stage.stage_sync_ns));
	fn(arg, "hflush.replica_wait_ns", get(&f->replica_wait_ns));
	fn(arg, "hflush.wait_ns", get(&f->wait_ns));
	fn(arg, "commit.transactions", get(&f->commits));
	fn(arg, "commit.slices", get(&f->records));
	fn(arg, "commit.ns", get(&f->commit_ns));

	/* the operations this handle used at least once */
	char name[96];
	for (int op = 0; op < SL_META_NOPS; op++) {
		struct sl_meta_op_stats s;
		sl_meta_op_stats(v->meta, op, &s);
		if (!s.calls)
			continue;
		const char *n = sl_meta_op_name(op);
		snprintf(name, sizeof(name), "meta.%s.calls", n);
		fn(arg, name, s.calls);
		snprintf(name, sizeof(name), "meta.%s.failures", n);
		fn(arg, name, s.failures);
		snprintf(name, sizeof(name), "meta.%s.ns", n);
		fn(arg, name, s.ns);
	}
	struct sl_meta_cache_stats mc;
	if (sl_meta_cache_stats(v->meta, &mc)) {
		fn(arg, "meta_cache.hits", mc.hits);
		fn(arg, "meta_cache.misses", mc.misses);
		fn(arg, "meta_cache.entries", mc.entries);
	}
	if (v->peers) {
		const struct sl_peer_stats *p = sl_peers_stats(v->peers);
		fn(arg, "cache_group.served", get(&p->served));
		fn(arg, "cache_group.fetched", get(&p->fetched));
		fn(arg, "cache_group.fetched_bytes", get(&p->fetched_bytes));
		fn(arg, "cache_group.refused", get(&p->refused));
		fn(arg, "cache_group.failed", get(&p->failed));
		fn(arg, "cache_group.kept", get(&p->kept));
		fn(arg, "cache_group.offered", get(&p->offered));
		fn(arg, "cache_group.replicated", get(&p->replicated));
		fn(arg, "cache_group.degraded", get(&p->degraded));
		fn(arg, "cache_group.commits", get(&p->commits));
		fn(arg, "cache_group.records_committed", get(&p->records_committed));
		fn(arg, "cache_group.syncs", get(&p->syncs));
		fn(arg, "cache_group.batches", get(&p->batches));
		fn(arg, "cache_group.sync_failures", get(&p->sync_failures));
	}
}
