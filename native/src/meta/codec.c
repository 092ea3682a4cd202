/* codec.c - the codecs of the gateway protocol's layouts, on the metadata types (codec.h). */
#include "codec.h"

#define SL_META_RECORD_DEFINE(name) SL_RPC_DEFINE(name, SL_RPC_T_##name)
#define SL_META_LAYOUT_DEFINE(name) SL_RPC_DEFINE(name, struct sl_rpc_##name)
SL_RPC_RECORDS(SL_META_RECORD_DEFINE)
SL_RPC_LAYOUTS(SL_META_LAYOUT_DEFINE)
