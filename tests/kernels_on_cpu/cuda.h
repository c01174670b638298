// The CUDA C that amp's kernels use, as plain C++, for kernels.cpp (the kernels compiled for
// the CPU simulation in shim.cpp; tests/tests/cuda_kernels_on_cpu.rs runs them).
//
// Kernels become ordinary functions; the launch coordinates are globals the scheduler sets
// before it resumes a simulated thread; `__syncthreads()` hands control back to it.
// `__shared__` variables are statics in their own linker section (`amp_shared`), so that the
// race checker (races.cpp) tells shared memory, which every block has its own copy of, from
// global memory. Launches run one at a time (shim.cpp holds a lock), so one copy serves.

#pragma once

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>

namespace sim {
struct Dim3 {
    unsigned int x = 0, y = 0, z = 0;
};
// Where the running simulated thread is, set by the scheduler (shim.cpp).
struct Coords {
    Dim3 block, thread, block_dim, grid_dim;
};
extern Coords coords;
void barrier();
void threadfence();
unsigned atomic_inc(unsigned* a, unsigned limit);
}  // namespace sim

#define blockIdx (sim::coords.block)
#define threadIdx (sim::coords.thread)
#define blockDim (sim::coords.block_dim)
#define gridDim (sim::coords.grid_dim)

#define __global__
#define __device__
#define __shared__ static __attribute__((section("amp_shared")))
#define __syncthreads() sim::barrier()
#define __threadfence() sim::threadfence()
#define atomicInc(a, limit) sim::atomic_inc(a, limit)

using std::isnan;
using std::max;
using std::min;
using std::sqrt;
