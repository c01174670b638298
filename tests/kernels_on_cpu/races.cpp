// Finds data races in the simulated kernels, whether or not they change a result.
//
// kernels.cpp is compiled with GCC's -fsanitize=thread, which makes every load and store of
// the kernels call `__tsan_read4(addr)`, `__tsan_write8(addr)`, ... Those are defined here
// (the ThreadSanitizer run time is not linked): each access is checked against the others of
// its launch in shadow cells, one per 4-byte word, that remember the last writer and up to
// two readers of the current barrier interval.
//
// The rule is CUDA's: within a block, `__syncthreads()` orders everything before it against
// everything after it, and nothing else orders two threads. So two accesses to one word by
// different threads of a block in the same barrier interval, one of them a store, race. Two
// threads of different blocks storing to one word of global memory race too (blocks are not
// ordered). A load of shared memory that no thread of the block stored to first reads
// whatever another block (or kernel) left there. A load of global memory another block stored
// to in the same launch races unless the two blocks shook hands: the writer fenced after its
// store, then made an atomic on some address; the reader made an atomic on the same address,
// then fenced, before its load (amp's last-block reductions). So does a store to what another
// block loaded in the same launch (whether that block saw the old or the new value depends on
// which block ran first), unless the loading block fenced and made an atomic after its load
// and the storing block made an atomic on the same address and fenced before its store. Each
// is reported with the block, threads, memory and barrier interval.
//
// A word some thread made an atomic on must see no plain load or store by another thread of
// the launch, and the other way round: amp's kernels touch a count (the last-block
// reductions') with atomics only, and a plain access beside an atomic races unless ordered
// in ways this checker does not follow, so it is reported even after a barrier (stricter than
// CUDA, where a plain load after `__syncthreads()` would be ordered).
//
// Not checked: warp-level behaviour; accesses narrower than a word by different threads to
// one word are reported as a race though a GPU's byte stores are independent.

#include "tests/kernels_on_cpu/races.h"

#include <algorithm>
#include <cstddef>
#include <cstdio>
#include <unordered_map>
#include <vector>

#include "tests/kernels_on_cpu/cuda.h"

// The `__shared__` variables (cuda.h puts them in this section; the linker names its ends).
extern "C" char __start_amp_shared[], __stop_amp_shared[];

namespace sim::races {
namespace {
constexpr int32_t NONE = -1;

// The `__shared__` variables by offset in the section (build.rs writes the table from nm).
struct SharedVariable {
    size_t offset, size;
    const char* name;
};
const SharedVariable SHARED[] = {
#include "shared_names.inc"
    {0, 0, nullptr},
};

// `row_sum_add::part[3]`: the variable at byte `offset` of the section, indexed in units of
// the access (the kernels' shared arrays hold scalars); a scalar variable goes unindexed.
std::string shared_name(size_t offset, size_t size) {
    for (const SharedVariable& v : SHARED) {
        if (v.name != nullptr && offset >= v.offset && offset < v.offset + v.size) {
            if (v.size == size) return v.name;
            return std::string(v.name) + "[" + std::to_string((offset - v.offset) / size) + "]";
        }
    }
    return "shared byte " + std::to_string(offset);
}

// A thread's access to a word: who, in which barrier interval, when (State::clock).
struct Access {
    int32_t thread = NONE;  // NONE: no such access yet
    uint32_t block = 0, interval = 0;
    uint64_t clock = 0;
};

// The threads that touched a word one way (plain accesses, or atomics) in the launch: the
// first, and whether any other did.
struct Touchers {
    int32_t thread = NONE;  // NONE: none yet
    uint32_t block = 0;
    bool others = false;

    void add(int32_t t, uint32_t b) {
        if (thread == NONE) {
            thread = t;
            block = b;
        } else if (thread != t || block != b) {
            others = true;
        }
    }
    // Whether a thread other than `t` of block `b` is among them.
    bool besides(int32_t t, uint32_t b) const {
        return thread != NONE && (others || thread != t || block != b);
    }
};

// One 4-byte word's history in the current launch (global memory) or block (shared).
struct Cell {
    uint64_t block_serial = 0;  // shared memory: the block run this cell is about
    Access store;               // the last store
    uint32_t r_block = 0, r_interval = 0;
    int32_t reader = NONE, other_reader = NONE;  // two distinct readers of that interval
    std::vector<Access> loads;  // the latest load of each block that loaded it, this launch
    Touchers plain, atomics;  // who loaded or stored it, who made atomics on it
};

// A thread's `__threadfence()` (release: before an atomic; acquire: after one), or atomic.
struct Mark {
    uint64_t clock = 0;  // 0: none yet in this block
    uint32_t interval = 0;
    int32_t thread = NONE;
    uintptr_t addr = 0;  // of the atomic
};

struct State {
    bool check = false;
    unsigned grid_x = 1, grid_y = 1;
    uint64_t clock = 0;  // counts the accesses, fences and atomics of all threads
    std::vector<Mark> last_fence, last_atomic;  // per thread of the running block
    // Per block of the launch, its fence-then-atomic marks (what other blocks may acquire).
    std::unordered_map<uint32_t, std::vector<Mark>> releases;
    std::vector<Mark> acquires;  // the running block's atomic-then-fence marks
    uintptr_t skip_lo = 0, skip_hi = 0;
    uint64_t block_serial = 0;  // counts block runs over all launches
    uint32_t block = 0, interval = 0;
    int32_t thread = 0;
    std::unordered_map<uintptr_t, Cell> global;
    std::vector<Cell> shared;
    std::string error;
};
State s;  // launches run one at a time (shim.cpp's lock)

std::string interval_name(uint32_t i) {
    if (i == 0) return "before the first __syncthreads()";
    return "after __syncthreads() number " + std::to_string(i);
}

void report(const std::string& what) {
    if (s.error.empty()) {
        s.error = "block " + block_name(s.block) + ": thread " + std::to_string(s.thread) +
                  " " + what;
    }
}

// Whether access `a` by another block is ordered before the running thread's access: that
// block fenced after `a` and then made an atomic on some address (its thread did both, or
// another thread did after a barrier), and this block made an atomic on the same address,
// then fenced, before the access (in this thread, or before a barrier).
bool handshake(const Access& a) {
    auto it = s.releases.find(a.block);
    if (it == s.releases.end()) return false;
    for (const Mark& rel : it->second) {
        bool before = (rel.thread == a.thread && a.clock < rel.clock) || a.interval < rel.interval;
        if (!before) continue;
        for (const Mark& acq : s.acquires) {
            bool loads_after = (acq.thread == s.thread && acq.clock < s.clock) ||
                               acq.interval < s.interval;
            if (acq.addr == rel.addr && loads_after) return true;
        }
    }
    return false;
}

const char* const MIXED = "a word counted with atomics must see atomics only (a data race)";

// Checks one access of the running thread to `c`; `where()` names the memory.
template <typename Where>
void check_cell(Cell& c, bool store, Where where) {
    const char* verb = store ? "stores to " : "loads ";
    if (c.atomics.besides(s.thread, s.block)) {
        report(verb + where() + ", which another thread made an atomic on in this launch: " +
               MIXED);
    }
    c.plain.add(s.thread, s.block);
    const Access& w = c.store;
    bool same_interval_writer = w.thread != NONE && w.block == s.block &&
                                w.interval == s.interval && w.thread != s.thread;
    if (same_interval_writer) {
        report(verb + where() + ", which thread " + std::to_string(w.thread) + " stored to " +
               interval_name(s.interval) + ", with no __syncthreads() between: a data race");
    }
    auto other_block = [&](const Access& a, const char* did) {
        return verb + where() + ", which block " + block_name(a.block) + "'s thread " +
               std::to_string(a.thread) + " " + did + " in this launch";
    };
    const char* no_handshake = ", with no fence-and-atomic handshake between the two blocks: "
                               "a data race";
    if (!store && w.thread != NONE && w.block != s.block && !handshake(w)) {
        report(other_block(w, "stored to") + no_handshake);
    }
    Access now{s.thread, s.block, s.interval, s.clock};
    if (store) {
        if (w.thread != NONE && w.block != s.block) {
            report(other_block(w, "stored to") + ": two blocks write one element (a data race)");
        }
        for (const Access& l : c.loads) {
            if (l.block != s.block && !handshake(l)) {
                report(other_block(l, "loaded") + no_handshake);
                break;
            }
        }
        bool readers_now = c.reader != NONE && c.r_block == s.block && c.r_interval == s.interval;
        if (readers_now && (c.reader != s.thread || c.other_reader != NONE)) {
            int32_t other = c.reader != s.thread ? c.reader : c.other_reader;
            report(verb + where() + ", which thread " + std::to_string(other) + " loaded " +
                   interval_name(s.interval) + ", with no __syncthreads() between: a data race");
        }
        c.store = now;
        return;
    }
    auto own = std::find_if(c.loads.begin(), c.loads.end(),
                            [](const Access& l) { return l.block == s.block; });
    if (own == c.loads.end()) {
        c.loads.push_back(now);
    } else {
        *own = now;
    }
    if (c.reader == NONE || c.r_block != s.block || c.r_interval != s.interval) {
        c.reader = s.thread;
        c.other_reader = NONE;
        c.r_block = s.block;
        c.r_interval = s.interval;
    } else if (c.reader != s.thread && c.other_reader == NONE) {
        c.other_reader = s.thread;
    }
}

// An atomic of the running thread on `c`: no other thread may load or store the word plainly.
template <typename Where>
void check_atomic(Cell& c, Where where) {
    if (c.plain.besides(s.thread, s.block)) {
        report("makes an atomic on " + where() +
               ", which another thread loaded or stored to in this launch: " + MIXED);
    }
    c.atomics.add(s.thread, s.block);
}

enum class Kind { Load, Store, Atomic };

// Checks one access of `kind` by the running thread to `c`.
template <typename Where>
void check(Cell& c, Kind kind, Where where) {
    if (kind == Kind::Atomic) {
        check_atomic(c, where);
    } else {
        check_cell(c, kind == Kind::Store, where);
    }
}

void access(const void* p, size_t size, Kind kind) {
    if (!s.check || !s.error.empty()) return;
    s.clock++;
    auto a = reinterpret_cast<uintptr_t>(p);
    if (a >= s.skip_lo && a < s.skip_hi) return;  // a simulated thread's own stack
    auto coords = reinterpret_cast<uintptr_t>(&sim::coords);
    if (a >= coords && a < coords + sizeof sim::coords) return;  // set by the scheduler
    auto lo = reinterpret_cast<uintptr_t>(__start_amp_shared);
    auto hi = reinterpret_cast<uintptr_t>(__stop_amp_shared);
    if (size == 0) return;
    if (a >= lo && a < hi) {
        auto where = [&] { return shared_name(a - lo, size); };
        for (uintptr_t w = (a - lo) / 4; w <= (a - lo + size - 1) / 4; w++) {
            Cell& c = s.shared[w];
            if (c.block_serial != s.block_serial) {
                if (kind != Kind::Store) {
                    report((kind == Kind::Atomic ? "makes an atomic on " : "loads ") + where() +
                           ", which no thread of its block stored to first: on a GPU it holds "
                           "whatever was left there");
                }
                c = Cell{};
                c.block_serial = s.block_serial;
            }
            check(c, kind, where);
        }
    } else {
        auto where = [&] {
            char at[32];
            std::snprintf(at, sizeof at, "%#zx", static_cast<size_t>(a));
            return "global memory at " + std::string(at);
        };
        for (uintptr_t w = a / 4; w <= (a + size - 1) / 4; w++) check(s.global[w], kind, where);
    }
}
}  // namespace

void load(const void* p, size_t size) {
    access(p, size, Kind::Load);
}

void store(const void* p, size_t size) {
    access(p, size, Kind::Store);
}

void begin_launch(bool check, unsigned grid_x, unsigned grid_y, unsigned threads,
                  const void* skip_lo, const void* skip_hi) {
    s.check = check;
    s.last_fence.assign(threads, Mark{});
    s.last_atomic.assign(threads, Mark{});
    s.releases.clear();
    s.grid_x = grid_x;
    s.grid_y = grid_y;
    s.skip_lo = reinterpret_cast<uintptr_t>(skip_lo);
    s.skip_hi = reinterpret_cast<uintptr_t>(skip_hi);
    s.global.clear();
    s.shared.resize((__stop_amp_shared - __start_amp_shared + 3) / 4);
    s.error.clear();
}

void begin_block(unsigned b) {
    s.block = b;
    s.interval = 0;
    s.block_serial++;
    std::fill(s.last_fence.begin(), s.last_fence.end(), Mark{});
    std::fill(s.last_atomic.begin(), s.last_atomic.end(), Mark{});
    s.acquires.clear();
}

void fence() {
    Mark now{++s.clock, s.interval, s.thread, 0};
    const Mark& atomic = s.last_atomic[s.thread];
    if (atomic.clock > s.last_fence[s.thread].clock) {  // atomic, then this fence: acquire
        s.acquires.push_back(now);
        s.acquires.back().addr = atomic.addr;
    }
    s.last_fence[s.thread] = now;
}

void atomic(const void* addr) {
    Mark now{++s.clock, s.interval, s.thread, reinterpret_cast<uintptr_t>(addr)};
    const Mark& fence = s.last_fence[s.thread];
    if (fence.clock != 0) {  // fence, then this atomic: release what the fence orders
        Mark rel = fence;
        rel.addr = now.addr;
        s.releases[s.block].push_back(rel);
    }
    s.last_atomic[s.thread] = now;
    access(addr, sizeof(unsigned), Kind::Atomic);  // shim.cpp's atomics act on `unsigned`
}

void next_interval() {
    s.interval++;
}

void set_thread(unsigned t) {
    s.thread = static_cast<int32_t>(t);
}

std::string block_name(unsigned b) {
    if (s.grid_y == 1) return std::to_string(b);
    return "(" + std::to_string(b % s.grid_x) + ", " + std::to_string(b / s.grid_x) + ")";
}

const std::string& error() {
    return s.error;
}
}  // namespace sim::races

// The calls -fsanitize=thread puts into kernels.cpp (build.rs turns off the function entry
// and exit ones).
extern "C" {
void __tsan_init() {}
#define AMP_TSAN_ACCESS(n)                                                                    \
    void __tsan_read##n(void* p) { sim::races::load(p, n); }                                  \
    void __tsan_write##n(void* p) { sim::races::store(p, n); }                                \
    void __tsan_unaligned_read##n(void* p) { sim::races::load(p, n); }                        \
    void __tsan_unaligned_write##n(void* p) { sim::races::store(p, n); }
AMP_TSAN_ACCESS(1)
AMP_TSAN_ACCESS(2)
AMP_TSAN_ACCESS(4)
AMP_TSAN_ACCESS(8)
AMP_TSAN_ACCESS(16)
void __tsan_read_range(void* p, size_t n) { sim::races::load(p, n); }
void __tsan_write_range(void* p, size_t n) { sim::races::store(p, n); }
}
