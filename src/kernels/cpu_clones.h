// The kernels' hot loops are compiled twice, for x86-64-v3 (AVX2, FMA) and for any x86-64, and
// the machine's version is picked when the library loads. clang does not clone function
// templates: where it compiles the kernels (the fuzz build), they are compiled once.
#pragma once

#if defined(__clang__)
#define SLIMFORMER_CPU_CLONES
#else
#define SLIMFORMER_CPU_CLONES __attribute__((target_clones("arch=x86-64-v3", "default")))
#endif
