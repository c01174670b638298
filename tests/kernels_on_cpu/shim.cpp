// Runs amp's CUDA C kernels on the CPU, so that their index arithmetic and their block-wide
// synchronisation are tested on machines without a GPU (tests/tests/cuda_kernels_on_cpu.rs).
// The kernels themselves are compiled in kernels.cpp (CUDA's keywords as C++: cuda.h); this
// file is the scheduler that runs a launch of them.
//
// A launch (`amp_sim_launch`) runs every thread of a block as a fiber (own stack) on the
// calling OS thread, one at a time; `__syncthreads()` hands control back to the scheduler,
// which runs the next thread. Once every thread of the block waits at the barrier (or has
// returned), all of them go on. The order in which the threads of one barrier interval run,
// and the order of the blocks, follow a schedule (in order, reversed, shuffled): a kernel
// whose results depend on that order gives results that differ between schedules. Every
// load, store and atomic is checked for data races as it happens (races.cpp), which finds the
// races that change no result. A barrier that some threads of a block reach and others never
// do (they returned) is reported as an error: on a GPU it hangs or is undefined.
// Launches run one at a time, under a lock: `__shared__` variables have one copy (cuda.h).
// What this cannot see: the memory model beyond the fence-and-atomic handshake races.cpp
// checks (blocks run one after another), warp-level behaviour.

#include <setjmp.h>
#include <ucontext.h>

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <mutex>
#include <numeric>
#include <random>
#include <string>
#include <vector>

#include "tests/kernels_on_cpu/cuda.h"
#include "tests/kernels_on_cpu/races.h"

namespace sim {
Coords coords;

enum class State { Ready, AtBarrier, Done };

// A simulated thread: its own stack, started once per launch with makecontext, then switched
// to and from with _setjmp/_longjmp (no system call per switch, unlike swapcontext, which
// saves the signal mask: a launch makes millions of switches).
struct Fiber {
    jmp_buf ctx;
    ucontext_t boot;
    State state = State::Ready;
};

// The launch running now.
struct Launch {
    jmp_buf scheduler;
    std::vector<Fiber> fibers;
    std::vector<char> stacks;  // one after another, STACK bytes each
    unsigned current = 0;
    void (*body)(void*) = nullptr;
    void* ctx = nullptr;
};
static Launch* active = nullptr;
static std::string error;
// Held for a whole launch: cargo runs tests on several threads.
static std::mutex one_launch_at_a_time;

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
    getcontext(&f.boot);
    f.boot.uc_stack.ss_sp = l.stacks.data() + t * STACK;
    f.boot.uc_stack.ss_size = STACK;
    f.boot.uc_link = nullptr;
    makecontext(&f.boot, fiber_main, 0);
    l.current = t;
    ucontext_t unused;  // fiber_main comes back by _longjmp, never to this context
    if (_setjmp(l.scheduler) == 0) swapcontext(&unused, &f.boot);
}

static void resume(Launch& l, unsigned t) {
    l.current = t;
    threadIdx.x = t;
    races::set_thread(t);
    if (_setjmp(l.scheduler) == 0) _longjmp(l.fibers[t].ctx, 1);
}

void barrier() {
    Launch* l = active;
    if (l == nullptr) {
        std::fprintf(stderr, "__syncthreads() outside amp_sim_launch\n");
        std::abort();
    }
    Fiber& f = l->fibers[l->current];
    f.state = State::AtBarrier;
    yield(f);
}

void threadfence() {
    races::fence();
}

unsigned atomic_inc(unsigned* a, unsigned limit) {
    races::atomic(a);
    unsigned old = *a;
    *a = old >= limit ? 0 : old + 1;
    return old;
}

// The order of `n` items for one round: 0 = in order, 1 = reversed, 2 = shuffled by `rng`.
static std::vector<unsigned> order(unsigned n, unsigned kind, std::mt19937_64& rng) {
    std::vector<unsigned> o(n);
    std::iota(o.begin(), o.end(), 0u);
    if (kind == 1) std::reverse(o.begin(), o.end());
    if (kind == 2) std::shuffle(o.begin(), o.end(), rng);
    return o;
}

// Runs block `b`'s threads to completion; false (and `error` set) on a divergent barrier or
// a data race.
static bool run_block(Launch& l, unsigned b, unsigned kind, std::mt19937_64& rng) {
    blockIdx.x = b;
    const unsigned linear = b + blockIdx.y * gridDim.x;
    races::begin_block(linear);
    for (auto& f : l.fibers) f.state = State::Ready;
    for (unsigned round = 0;; round++) {
        for (unsigned t : order(l.fibers.size(), kind, rng)) resume(l, t);
        if (!races::error().empty()) {
            error = races::error();
            return false;
        }
        unsigned waiting = 0, done = 0, first_done = 0, first_waiting = 0;
        for (unsigned t = 0; t < l.fibers.size(); t++) {
            if (l.fibers[t].state == State::Done && done++ == 0) first_done = t;
            if (l.fibers[t].state == State::AtBarrier && waiting++ == 0) first_waiting = t;
        }
        if (waiting == 0) return true;
        if (done > 0) {
            error = "block " + races::block_name(linear) + ": thread " + std::to_string(first_waiting) +
                    " (and " + std::to_string(waiting - 1) + " more) waits at __syncthreads() " +
                    "number " + std::to_string(round + 1) + " that thread " +
                    std::to_string(first_done) + " (and " + std::to_string(done - 1) +
                    " more) returned without reaching: a divergent barrier";
            return false;
        }
        for (auto& f : l.fibers) f.state = State::Ready;
        races::next_interval();
    }
}
}  // namespace sim

// Runs `body(ctx)` as every thread of a launch of (`grid_x`, `grid_y`) blocks of `block`
// threads, the blocks one after another in the schedule's order (`kind`: 0 in order, 1
// reversed, 2 shuffled with `seed`, a fresh order for every barrier interval), checking
// for data races if `races` is not 0. Returns null, or what went wrong (valid until this OS
// thread's next launch).
extern "C" const char* amp_sim_launch(unsigned grid_x, unsigned grid_y, unsigned block,
                                      unsigned kind, uint64_t seed, unsigned races,
                                      void (*body)(void*), void* ctx) {
    static thread_local std::string failure;
    std::lock_guard<std::mutex> lock(sim::one_launch_at_a_time);
    sim::Launch l;
    l.body = body;
    l.ctx = ctx;
    l.fibers.resize(block);
    l.stacks.resize(block * sim::STACK);
    std::mt19937_64 rng(seed);
    blockDim.x = block;
    gridDim.x = grid_x;
    gridDim.y = grid_y;
    sim::active = &l;
    sim::races::begin_launch(races != 0, grid_x, grid_y, block, l.stacks.data(),
                             l.stacks.data() + l.stacks.size());
    for (unsigned t = 0; t < block; t++) sim::start(l, t);
    bool ok = true;
    for (unsigned b : sim::order(grid_x * grid_y, kind, rng)) {
        blockIdx.y = b / grid_x;
        if (!(ok = sim::run_block(l, b % grid_x, kind, rng))) break;
    }
    sim::active = nullptr;
    failure = ok ? "" : sim::error;
    return ok ? nullptr : failure.c_str();
}
