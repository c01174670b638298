// Runs amp's CUDA C kernels on the CPU, so that their index arithmetic and their block-wide
// synchronisation are tested on machines without a GPU (tests/tests/cuda_kernels_on_cpu.rs).
//
// The CUDA keywords become plain C++: kernels are ordinary functions, `__shared__` arrays are
// statics local to the OS thread (so shared by the fibers of the block it runs, below), and
// the launch coordinates are thread-local globals.
//
// A launch (`amp_sim_launch`) runs every thread of a block as a fiber (own stack) on the
// calling OS thread, one at a time; `__syncthreads()` hands control back to the scheduler,
// which runs the next thread. Once every thread of the block waits at the barrier (or has
// returned), all of them go on. The order in which the threads of one barrier interval run,
// and the order of the blocks, follow a schedule (in order, reversed, shuffled): a kernel
// that reads shared memory another thread writes in the same interval (a missing
// `__syncthreads`) reads a value that depends on that order, which the test sees as results
// that differ between schedules. A barrier that some threads of a block reach and others
// never do (they returned) is reported as an error: on a GPU it hangs or is undefined.
// What this cannot see: a race that changes no thread's result, two threads of one interval
// writing the same global element (run one after another, both writes land), races and memory
// ordering between blocks (they run one after another), warp-level behaviour.

#include <setjmp.h>
#include <ucontext.h>

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <numeric>
#include <random>
#include <string>
#include <vector>

namespace sim {
struct Dim3 {
    unsigned int x = 0, y = 0, z = 0;
};
}  // namespace sim

// Per OS thread: cargo runs tests in parallel, and each test's launches run on its own thread.
static thread_local sim::Dim3 blockIdx, threadIdx, blockDim, gridDim;

namespace sim {
enum class State { Ready, AtBarrier, Done };

// A simulated thread: its own stack, started once per launch with makecontext, then switched
// to and from with _setjmp/_longjmp (no system call per switch, unlike swapcontext, which
// saves the signal mask: a launch makes millions of switches).
struct Fiber {
    jmp_buf ctx;
    ucontext_t boot;
    std::vector<char> stack;
    State state = State::Ready;
    unsigned barriers = 0;
};

// The launch running on this OS thread.
struct Launch {
    jmp_buf scheduler;
    std::vector<Fiber> fibers;
    unsigned current = 0;
    void (*body)(void*) = nullptr;
    void* ctx = nullptr;
};
static thread_local Launch* active = nullptr;
static thread_local std::string error;

// 64 KiB per simulated thread: the kernels keep a few scalars on their stacks.
constexpr size_t STACK = 64 * 1024;

// Back to the scheduler; returns when the scheduler resumes this fiber.
static void yield(Fiber& f) {
    if (_setjmp(f.ctx) == 0) _longjmp(active->scheduler, 1);
}

// A fiber's whole life: park, then run the kernel once per block it is resumed for. It never
// returns; the launch drops its stack when it ends.
static void fiber_main() {
    Launch* const l = active;
    Fiber& f = l->fibers[l->current];
    yield(f);
    for (;;) {
        l->body(l->ctx);
        f.state = State::Done;
        yield(f);
    }
}

static void start(Launch& l, unsigned t) {
    Fiber& f = l.fibers[t];
    f.stack.resize(STACK);
    getcontext(&f.boot);
    f.boot.uc_stack.ss_sp = f.stack.data();
    f.boot.uc_stack.ss_size = f.stack.size();
    f.boot.uc_link = nullptr;
    makecontext(&f.boot, fiber_main, 0);
    l.current = t;
    ucontext_t unused;  // fiber_main comes back by _longjmp, never to this context
    if (_setjmp(l.scheduler) == 0) swapcontext(&unused, &f.boot);
}

static void resume(Launch& l, unsigned t) {
    l.current = t;
    threadIdx.x = t;
    if (_setjmp(l.scheduler) == 0) _longjmp(l.fibers[t].ctx, 1);
}

static void barrier() {
    Launch* l = active;
    if (l == nullptr) {
        std::fprintf(stderr, "__syncthreads() outside amp_sim_launch\n");
        std::abort();
    }
    Fiber& f = l->fibers[l->current];
    f.state = State::AtBarrier;
    f.barriers++;
    yield(f);
}

// The order of `n` items for one round: 0 = in order, 1 = reversed, 2 = shuffled by `rng`.
static std::vector<unsigned> order(unsigned n, unsigned kind, std::mt19937_64& rng) {
    std::vector<unsigned> o(n);
    std::iota(o.begin(), o.end(), 0u);
    if (kind == 1) std::reverse(o.begin(), o.end());
    if (kind == 2) std::shuffle(o.begin(), o.end(), rng);
    return o;
}

// Runs block `b`'s threads to completion; false (and `error` set) on a divergent barrier.
static bool run_block(Launch& l, unsigned b, unsigned kind, std::mt19937_64& rng) {
    blockIdx.x = b;
    for (auto& f : l.fibers) {
        f.state = State::Ready;
        f.barriers = 0;
    }
    for (unsigned round = 0;; round++) {
        for (unsigned t : order(l.fibers.size(), kind, rng)) resume(l, t);
        unsigned waiting = 0, done = 0, first_done = 0, first_waiting = 0;
        for (unsigned t = 0; t < l.fibers.size(); t++) {
            if (l.fibers[t].state == State::Done && done++ == 0) first_done = t;
            if (l.fibers[t].state == State::AtBarrier && waiting++ == 0) first_waiting = t;
        }
        if (waiting == 0) return true;
        if (done > 0) {
            std::string where = std::to_string(b);
            if (gridDim.y > 1) where = "(" + where + ", " + std::to_string(blockIdx.y) + ")";
            error = "block " + where + ": thread " + std::to_string(first_waiting) +
                    " (and " + std::to_string(waiting - 1) + " more) waits at __syncthreads() " +
                    "number " + std::to_string(round + 1) + " that thread " +
                    std::to_string(first_done) + " (and " + std::to_string(done - 1) +
                    " more) returned without reaching: a divergent barrier";
            return false;
        }
        for (auto& f : l.fibers) f.state = State::Ready;
    }
}
}  // namespace sim

#define __global__
#define __device__
#define __shared__ static thread_local
#define __syncthreads() sim::barrier()
using std::isnan;
using std::max;
using std::min;
using std::sqrt;

// Runs `body(ctx)` as every thread of a launch of (`grid_x`, `grid_y`) blocks of `block`
// threads, the blocks one after another in the schedule's order (`kind`: 0 in order, 1
// reversed, 2 shuffled with `seed`, a fresh order for every barrier interval). Returns null,
// or what went wrong.
extern "C" const char* amp_sim_launch(unsigned grid_x, unsigned grid_y, unsigned block,
                                      unsigned kind, uint64_t seed, void (*body)(void*),
                                      void* ctx) {
    sim::Launch l;
    l.body = body;
    l.ctx = ctx;
    l.fibers.resize(block);
    std::mt19937_64 rng(seed);
    blockDim.x = block;
    gridDim.x = grid_x;
    gridDim.y = grid_y;
    sim::Launch* outer = sim::active;
    sim::active = &l;
    for (unsigned t = 0; t < block; t++) sim::start(l, t);
    bool ok = true;
    for (unsigned b : sim::order(grid_x * grid_y, kind, rng)) {
        blockIdx.y = b / grid_x;
        if (!(ok = sim::run_block(l, b % grid_x, kind, rng))) break;
    }
    sim::active = outer;
    return ok ? nullptr : sim::error.c_str();
}

#include "amp-nn/src/conv2d/cuda.cu"
#include "amp-nn/src/pool/cuda.cu"
#include "amp-nn/src/batchnorm2d/cuda.cu"
#include "amp_core_f32.cu"
#include "tests/kernels_on_cpu/faulty.cu"
