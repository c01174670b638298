// Kernels with the synchronisation mistakes the simulation is there to catch, for the tests
// that show it catches them (tests/tests/cuda_kernels_on_cpu.rs, `the_*_catch*`).
// Each is a block of 256 threads doing what amp's reduction kernels do, with one thing wrong.

// The tree without the barrier between its levels: a thread may add a partial sum another
// thread has not written yet.
extern "C" __global__ void faulty_tree_without_barriers(const double* x, double* out) {
    __shared__ double sh[256];
    sh[threadIdx.x] = x[threadIdx.x];
    __syncthreads();
    for (int k = blockDim.x / 2; k > 0; k >>= 1) {
        if (threadIdx.x < k) sh[threadIdx.x] += sh[threadIdx.x + k];
    }
    if (threadIdx.x == 0) out[0] = sh[0];
}

// Two sums in a row through the same shared array, without the barrier after every thread
// read the first result: a fast thread overwrites sh[0] for the second sum while slower ones
// still read the first. Every thread returns what it read.
__device__ double two_sums_without_barrier(const double* x) {
    __shared__ double sh[256];
    double total = 0.0;
    for (int pass = 0; pass < 2; pass++) {
        sh[threadIdx.x] = x[threadIdx.x] * (pass + 1);
        __syncthreads();
        for (int k = blockDim.x / 2; k > 0; k >>= 1) {
            if (threadIdx.x < k) sh[threadIdx.x] += sh[threadIdx.x + k];
            __syncthreads();
        }
        total += sh[0];
    }
    return total;
}

// Every thread stores its sum: which ones read an overwritten sh[0] shows in the output.
extern "C" __global__ void faulty_reuse_without_barrier(const double* x, double* out) {
    out[threadIdx.x] = two_sums_without_barrier(x);
}

// A barrier inside a branch that only the first 32 threads take.
extern "C" __global__ void faulty_divergent_barrier(const double* x, double* out) {
    if (threadIdx.x >= 32) return;
    __syncthreads();
    out[threadIdx.x] = x[threadIdx.x];
}

// Only thread 0 keeps its sum: the threads that read sh[0] after thread 0 overwrote it throw
// that value away, so every schedule gives the same result. The race is still there (and a
// GPU may run it either way).
extern "C" __global__ void faulty_race_without_effect(const double* x, double* out) {
    double total = two_sums_without_barrier(x);
    if (threadIdx.x == 0) out[0] = total;
}

// Every block stores its copy of x to the same out: the stores agree, so the result does not
// depend on which lands last, but two blocks writing one element is a race.
extern "C" __global__ void faulty_blocks_store_one_element(const double* x, double* out) {
    out[threadIdx.x] = x[threadIdx.x];
}

// out[i] = x[i] - out[i + 1] in place over 2 blocks of 128 elements, one per thread (the other
// 128 threads of each block idle): the barrier orders a block's loads of its neighbours
// before its stores, but block 0's thread 127 loads out[128], which block 1 stores to, and
// blocks are not ordered. Whether it gets the old or the new value depends on which block
// runs first.
extern "C" __global__ void faulty_loads_what_another_block_overwrites(const double* x,
                                                                      double* out) {
    const unsigned per_block = 128;
    const unsigned i = blockIdx.x * per_block + threadIdx.x;
    const bool mine = threadIdx.x < per_block;
    double next = 0.0;
    if (mine && i + 1 < gridDim.x * per_block) next = out[i + 1];
    __syncthreads();
    if (mine) out[i] = x[i] - next;
}

// A block sum whose first half of threads fills the shared array and whose tree reads all of
// it: the second half reads what an earlier block (or kernel) left in shared memory.
extern "C" __global__ void faulty_reads_unstored_shared(const double* x, double* out) {
    __shared__ double sh[256];
    if (threadIdx.x < 128) sh[threadIdx.x] = x[threadIdx.x];
    __syncthreads();
    for (int k = blockDim.x / 2; k > 0; k >>= 1) {
        if (threadIdx.x < k) sh[threadIdx.x] += sh[threadIdx.x + k];
        __syncthreads();
    }
    if (threadIdx.x == 0) out[0] = sh[0];
}

// The counter of the last-block sums below, only ever touched by atomicInc (which leaves it
// at 0 again after the last block).
__device__ unsigned last_block_count;

// A sum over the blocks of a launch by the last block to finish, as amp-core's one-launch norm
// does it: each block stores its part to out[1 + block], and the last block adds them into
// out[0]. The stores are ordered before the last block's loads by the handshake: a fence
// (`release`), then the atomic count, then a fence in the last block (`acquire`).
__device__ void last_block_sum(const double* x, double* out, bool release, bool acquire) {
    __shared__ double sh[256];
    __shared__ int last;
    sh[threadIdx.x] = x[threadIdx.x];
    __syncthreads();
    for (int k = blockDim.x / 2; k > 0; k >>= 1) {
        if (threadIdx.x < k) sh[threadIdx.x] += sh[threadIdx.x + k];
        __syncthreads();
    }
    if (threadIdx.x == 0) {
        out[1 + blockIdx.x] = sh[0];
        if (release) __threadfence();
        last = atomicInc(&last_block_count, gridDim.x - 1) == gridDim.x - 1;
        if (last && acquire) __threadfence();
    }
    __syncthreads();
    if (!last || threadIdx.x != 0) return;
    double total = 0.0;
    for (unsigned b = 0; b < gridDim.x; b++) total += out[1 + b];
    out[0] = total;
}

// The handshake done right: no race (the test's reference for the two below).
extern "C" __global__ void last_block_sum_done_right(const double* x, double* out) {
    last_block_sum(x, out, true, true);
}

// Without the fence before the count, a block's part may reach memory after the count says
// it is there.
extern "C" __global__ void faulty_last_block_without_release(const double* x, double* out) {
    last_block_sum(x, out, false, true);
}

// Without the fence after the count, the last block may load the parts before they arrive.
extern "C" __global__ void faulty_last_block_without_acquire(const double* x, double* out) {
    last_block_sum(x, out, true, false);
}

// A count only atomics should touch.
__device__ unsigned peeked_count;

// Thread 0 of each block counts its block in while thread 1 peeks at the count with a plain
// load in the same barrier interval: whether it sees the increment depends on the schedule.
extern "C" __global__ void faulty_peeks_at_a_count(const double* x, double* out) {
    if (threadIdx.x == 0) atomicInc(&peeked_count, 1000);
    if (threadIdx.x == 1) out[blockIdx.x] = x[0] + peeked_count;
}

// The last block resets a count with a plain store instead of letting atomicInc wrap it, as
// amp's kernels do; other blocks' atomics on it are not ordered before that store.
__device__ unsigned reset_count;

extern "C" __global__ void faulty_resets_a_count_plainly(const double* x, double* out) {
    if (threadIdx.x != 0) return;
    __threadfence();
    bool last = atomicInc(&reset_count, 1000) == gridDim.x - 1;
    if (last) {
        __threadfence();
        reset_count = 0;
        out[0] = x[0];
    }
}

// Three blocks load out[0], then count themselves in; the fourth counts itself in, fences and
// stores to out[0]. Blocks 0 and 1 fence between their load and the count (their loads are
// ordered before the store, as far as the handshake goes); block 2 does not, so the value it
// loaded depends on which block ran first. The race is the third loading block's.
__device__ unsigned loaders_count;

extern "C" __global__ void faulty_third_loader_without_release(const double* x, double* out) {
    if (threadIdx.x != 0) return;
    if (blockIdx.x < 3) {
        out[1 + blockIdx.x] = out[0];
        if (blockIdx.x != 2) __threadfence();
        atomicInc(&loaders_count, gridDim.x - 1);
    } else {
        atomicInc(&loaders_count, gridDim.x - 1);
        __threadfence();
        out[0] = x[0];
    }
}
