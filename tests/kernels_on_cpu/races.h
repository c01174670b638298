// The data-race checker of the CPU simulation (races.cpp), driven by shim.cpp's scheduler.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

namespace sim::races {
// A launch of `grid_x` x `grid_y` blocks of `threads` starts; `check` turns the checker on
// for it. Loads and stores in [skip_lo, skip_hi) (the simulated threads' stacks) are not
// checked.
void begin_launch(bool check, unsigned grid_x, unsigned grid_y, unsigned threads,
                  const void* skip_lo, const void* skip_hi);
// Block `b` (linear: x + y * grid_x) starts, in its first barrier interval.
void begin_block(unsigned b);
// Its threads were released from a `__syncthreads()`: the next interval begins.
void next_interval();
// Simulated thread `t` of the block runs now.
void set_thread(unsigned t);
// The running thread calls `__threadfence()`.
void fence();
// The running thread makes an atomic read-modify-write of `addr` (an `unsigned`): checked
// against plain accesses to it, and a mark of what it orders.
void atomic(const void* addr);
// The running thread loads or stores `size` bytes at `p` (the calls -fsanitize=thread puts
// into the kernels).
void load(const void* p, size_t size);
void store(const void* p, size_t size);
// Block `b` (linear) of the running launch as errors name it: `3`, or `(0, 1)` in a 2-D grid.
std::string block_name(unsigned b);
// The first race of the launch, or empty.
const std::string& error();
}  // namespace sim::races
