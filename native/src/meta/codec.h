/*
 * codec.h - the gateway protocol's layouts (rpc/codec.h) instantiated for the client (remote*.c),
 * the server (gateway/) and the fuzz seeds: the metadata types those layouts carry as records
 * (attributes, slices, ...), which rpc/ does not know, and every layout's struct and codec.
 */
#ifndef SL_META_CODEC_H
#define SL_META_CODEC_H

#include "../rpc/codec.h"
#include "meta.h"

#define SL_RPC_T_attr struct sl_attr
#define SL_RPC_T_slice struct sl_slice
#define SL_RPC_T_removed struct sl_removed
#define SL_RPC_T_lease struct sl_meta_lease
#define SL_RPC_T_session struct sl_session_info
#define SL_RPC_T_summary struct sl_meta_summary

#define SL_META_RECORD_DECLARE(name) SL_RPC_DECLARE(name, SL_RPC_T_##name)
#define SL_META_LAYOUT_DECLARE(name) SL_RPC_STRUCT(name) SL_RPC_DECLARE(name, struct sl_rpc_##name)
SL_RPC_RECORDS(SL_META_RECORD_DECLARE)
SL_RPC_LAYOUTS(SL_META_LAYOUT_DECLARE)
#undef SL_META_RECORD_DECLARE
#undef SL_META_LAYOUT_DECLARE

#endif
