// Runs amp's CUDA C kernels on the CPU, one simulated thread at a time, so that their index
// arithmetic is tested on machines without a GPU (tests/tests/cuda_kernels_on_cpu.rs).
//
// The CUDA keywords become plain C++: kernels are ordinary functions, `__shared__` arrays are
// (thread-local) statics, and the launch coordinates are thread-local globals the test sets
// before each simulated thread.
// Kernels that synchronise a block (the reductions) are only run with one thread per block,
// where `__syncthreads` has nothing to wait for; the tree over threads is then trivial and
// the rest (which elements a block sums, where it writes) is what is checked.

#include <algorithm>
#include <cmath>
#include <cstddef>

namespace sim {
struct Dim3 {
    unsigned int x = 0, y = 0, z = 0;
};
}  // namespace sim

// Per test thread: cargo runs tests in parallel.
static thread_local sim::Dim3 blockIdx, threadIdx, blockDim, gridDim;

#define __global__
#define __device__
#define __shared__ static thread_local
#define __syncthreads()
using std::isnan;
using std::max;
using std::min;
using std::sqrt;

extern "C" void amp_sim_thread(unsigned block, unsigned thread, unsigned block_dim,
                               unsigned grid_dim) {
    blockIdx.x = block;
    threadIdx.x = thread;
    blockDim.x = block_dim;
    gridDim.x = grid_dim;
}

#include "amp-nn/src/conv2d/cuda.cu"
#include "amp-nn/src/pool/cuda.cu"
#include "amp-nn/src/batchnorm2d/cuda.cu"
#include "amp_core_f32.cu"
