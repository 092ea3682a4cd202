/* version.c - library version and ABI number (see sluice.h). */
#include "sluice.h"

const char *sluice_version(void) { return SLUICE_VERSION_STRING; }

int sluice_abi_version(void) { return SLUICE_ABI_VERSION; }
