//! amp's CUDA C kernels, compiled as C++ and run on the CPU (build.rs, kernels_on_cpu/shim.cpp),
//! against amp-nn's `Cpu` kernels: the index arithmetic of im2col/col2im, the layout
//! transposes, pooling windows, batch-norm channel walks and the norm reductions, checked on
//! machines without a GPU. The launch sequences mirror `amp-nn/src/*/cuda.rs` (grid and block
//! sizes included); the GEMMs are cuBLAS's column-major definition applied literally to the
//! arguments `amp_nn::cuda::gemm` maps a row-major product to.
//!
//! Every thread of a block runs (as a fiber; `__syncthreads()` switches), in an order a
//! [`Schedule`] picks. Each case runs under every schedule and must give the same bits: the
//! kernels promise results that do not depend on scheduling, and a missing barrier that
//! changes what some thread computes shows up as a difference. Every load and store of the
//! kernels is also checked for data races as it happens (kernels_on_cpu/races.cpp): two
//! threads of a block touching one word in the same barrier interval (one of them storing),
//! two blocks storing to one element, a load of shared memory its block never stored to, a
//! load of what another block stored or a store to what another block loaded without a
//! fence-and-atomic handshake, and a plain load or store of a word another thread made an
//! atomic on. That finds the races that change no result too; the `the_*_catch*` and `the_race_checker_*` tests show the
//! checks fail on kernels made wrong on purpose (kernels_on_cpu/faulty.cu). What this cannot
//! check (that a GPU runs them the same way, the memory model beyond that handshake,
//! warp-level behaviour) is what scripts/gpu/run.sh checks on a GPU.

use std::cell::{Cell, RefCell};
use std::ffi::{c_char, c_void, CStr};

use amp_nn::cuda::gemm::{ColMajorCall, Mat};
use amp_nn::{NnDevice, PoolKind};
use dfdx::prelude::*;

#[repr(C)]
#[derive(Clone, Copy)]
struct ConvDims {
    n: i32,
    c: i32,
    h: i32,
    w: i32,
    k: i32,
    s: i32,
    p: i32,
    ho: i32,
    wo: i32,
}

#[repr(C)]
#[derive(Clone, Copy)]
struct PoolDims {
    planes: i32,
    h: i32,
    w: i32,
    ho: i32,
    wo: i32,
    k: i32,
    s: i32,
    p: i32,
}

#[repr(C)]
#[derive(Clone, Copy)]
struct BnArgs {
    x: *const f32,
    scale: *const f32,
    bias: *const f32,
    rmean: *const f32,
    rvar: *const f32,
    y: *mut f32,
    new_rmean: *mut f32,
    new_rvar: *mut f32,
    saved: *mut f64,
    gy: *const f32,
    gx: *mut f32,
    gscale: *mut f32,
    gbias: *mut f32,
    n: i32,
    c: i32,
    hw: i32,
    eps: f64,
    momentum: f64,
}

// The scheduler in shim.cpp uses the C++ standard library.
#[link(name = "stdc++")]
extern "C" {}

#[link(name = "amp_kernels_on_cpu", kind = "static")]
extern "C" {
    fn amp_sim_launch(
        grid_x: u32,
        grid_y: u32,
        block: u32,
        kind: u32,
        seed: u64,
        races: u32,
        body: extern "C" fn(*mut c_void),
        ctx: *mut c_void,
    ) -> *const c_char;
    fn im2col(x: *const f32, col: *mut f32, d: ConvDims);
    fn col2im_add(gcol: *const f32, gx: *mut f32, d: ConvDims);
    fn cnp_to_nchw(t: *const f32, bias: *const f32, y: *mut f32, n: i32, o: i32, plane: i32);
    fn nchw_to_cnp(g: *const f32, t: *mut f32, n: i32, o: i32, plane: i32);
    fn row_sum_add(t: *const f32, out: *mut f32, len: usize);
    fn max_forward(x: *const f32, y: *mut f32, arg: *mut i32, d: PoolDims);
    fn avg_forward(x: *const f32, y: *mut f32, d: PoolDims);
    fn pool_backward(gy: *const f32, arg: *const i32, gx: *mut f32, d: PoolDims);
    fn bn_train_forward(a: BnArgs);
    fn bn_train_backward(a: BnArgs);
    fn bn_eval_forward(a: BnArgs);
    fn bn_eval_backward(a: BnArgs);
    fn measure_scale_f32(g: *mut f32, n: usize, k: f64, scale: i32, partial: *mut f64);
    fn add_partials_f32(partial: *const f64, parts: i32, acc: *mut f64, slot: i32);
    fn faulty_tree_without_barriers(x: *const f64, out: *mut f64);
    fn faulty_reuse_without_barrier(x: *const f64, out: *mut f64);
    fn faulty_divergent_barrier(x: *const f64, out: *mut f64);
    fn faulty_race_without_effect(x: *const f64, out: *mut f64);
    fn faulty_blocks_store_one_element(x: *const f64, out: *mut f64);
    fn faulty_reads_unstored_shared(x: *const f64, out: *mut f64);
    fn faulty_loads_what_another_block_overwrites(x: *const f64, out: *mut f64);
    fn last_block_sum_done_right(x: *const f64, out: *mut f64);
    fn faulty_last_block_without_release(x: *const f64, out: *mut f64);
    fn faulty_last_block_without_acquire(x: *const f64, out: *mut f64);
    fn faulty_peeks_at_a_count(x: *const f64, out: *mut f64);
    fn faulty_resets_a_count_plainly(x: *const f64, out: *mut f64);
    fn faulty_third_loader_without_release(x: *const f64, out: *mut f64);
}

/// The order in which a launch runs its blocks, and the threads of a block between two
/// barriers (shim.cpp).
#[derive(Clone, Copy, Debug, PartialEq)]
enum Schedule {
    InOrder,
    Reversed,
    /// A fresh random order for every block and barrier interval, from this seed.
    Shuffled(u64),
}

const SCHEDULES: [Schedule; 3] = [
    Schedule::InOrder,
    Schedule::Reversed,
    Schedule::Shuffled(0x5eed),
];

thread_local! {
    /// The schedule of this test thread's launches.
    static SCHEDULE: Cell<Schedule> = const { Cell::new(Schedule::InOrder) };
    /// Whether this test thread's launches check for data races (kernels_on_cpu/races.cpp).
    static CHECK_RACES: Cell<bool> = const { Cell::new(true) };
    /// The case running on this test thread, for the simulation's errors.
    static CASE: RefCell<String> = const { RefCell::new(String::new()) };
}

/// Threads per block of `CudaCtx::launch_n` (amp-nn/src/cuda/context.rs).
const THREADS: usize = 256;
/// Threads per block of amp-nn's reduction kernels (`REDUCE_THREADS` in context.rs).
const REDUCE_THREADS: usize = 512;
/// Threads per block of amp-core's norm kernels (`THREADS` in amp-core/src/backend/cuda.rs).
const NORM_THREADS: usize = 256;

/// Runs `kernel` as every thread of a (`grid`.0 x `grid`.1) x `block` launch under this
/// thread's [`Schedule`]; panics with the simulation's error (a data race, a divergent
/// barrier), after the case's name.
fn launch<F: FnMut()>(grid: (usize, usize), block: usize, kernel: F) {
    if let Err(e) = try_launch(grid, block, kernel) {
        panic!(
            "{} ({:?}): {e}",
            CASE.with_borrow(Clone::clone),
            SCHEDULE.get()
        );
    }
}

/// [`launch`], returning the simulation's error.
fn try_launch<F: FnMut()>(grid: (usize, usize), block: usize, mut kernel: F) -> Result<(), String> {
    extern "C" fn body<F: FnMut()>(ctx: *mut c_void) {
        // SAFETY: `ctx` is the `&mut F` passed below, alive for the whole launch; the fibers
        // run one at a time, so no two calls overlap.
        unsafe { (*ctx.cast::<F>())() }
    }
    let (kind, seed) = match SCHEDULE.get() {
        Schedule::InOrder => (0, 0),
        Schedule::Reversed => (1, 0),
        Schedule::Shuffled(seed) => (2, seed),
    };
    let dim = |v: usize| u32::try_from(v.max(1)).expect("grid too large");
    // SAFETY: `body::<F>` takes the `F` that `ctx` points to.
    let err = unsafe {
        amp_sim_launch(
            dim(grid.0),
            dim(grid.1),
            dim(block),
            kind,
            seed,
            u32::from(CHECK_RACES.get()),
            body::<F>,
            (&mut kernel as *mut F).cast(),
        )
    };
    if err.is_null() {
        return Ok(());
    }
    // SAFETY: a NUL-terminated string owned by the shim until this thread's next launch.
    Err(unsafe { CStr::from_ptr(err) }
        .to_string_lossy()
        .into_owned())
}

/// A launch of one thread per element of `n` in blocks of 256 (`CudaCtx::launch_n`), every
/// thread of the last block included.
fn per_element(n: usize, kernel: impl FnMut()) {
    launch((n.div_ceil(THREADS), 1), THREADS, kernel)
}

/// A launch of `blocks` blocks of amp-nn's reduction width (`CudaCtx::launch_blocks`).
fn per_block(blocks: usize, kernel: impl FnMut()) {
    launch((blocks, 1), REDUCE_THREADS, kernel)
}

/// The bits of a case's outputs, named, to compare runs under different schedules.
#[derive(Default, PartialEq)]
struct Outputs(Vec<(&'static str, Vec<u64>)>);

impl Outputs {
    fn f32(mut self, name: &'static str, v: &[f32]) -> Self {
        self.0
            .push((name, v.iter().map(|v| u64::from(v.to_bits())).collect()));
        self
    }

    fn i32(mut self, name: &'static str, v: &[i32]) -> Self {
        self.0
            .push((name, v.iter().map(|&v| v as u32 as u64).collect()));
        self
    }

    fn f64(mut self, name: &'static str, v: &[f64]) -> Self {
        self.0.push((name, v.iter().map(|v| v.to_bits()).collect()));
        self
    }

    /// The first output and element where `self` and `other` differ.
    fn first_difference(&self, other: &Outputs) -> Option<String> {
        self.0.iter().zip(&other.0).find_map(|((name, a), (_, b))| {
            let i = a.iter().zip(b).position(|(x, y)| x != y)?;
            Some(format!("{name}[{i}]: {:#x} vs {:#x}", a[i], b[i]))
        })
    }
}

/// Runs `case` under every schedule: its outputs must be the same bits each time.
fn under_every_schedule(what: &str, case: impl Fn() -> Outputs) {
    CASE.set(what.to_string());
    let mut first: Option<Outputs> = None;
    for schedule in SCHEDULES {
        SCHEDULE.set(schedule);
        let out = case();
        SCHEDULE.set(Schedule::InOrder);
        match &first {
            None => first = Some(out),
            Some(want) => {
                if let Some(diff) = want.first_difference(&out) {
                    panic!(
                        "{what}: {schedule:?} differs from {:?} at {diff}",
                        SCHEDULES[0]
                    );
                }
            }
        }
    }
}

/// cuBLAS's column-major SGEMM on host memory, applied literally: `C = op(A) op(B) + beta C`
/// (host pointers stand in for device pointers in the `Mat`s).
unsafe fn sgemm(dims: (usize, usize, usize), a: Mat, b: Mat, beta: f32, c: *mut f32, ldc: usize) {
    let call = ColMajorCall::for_row_major(dims, a, b, ldc);
    let (pa, pb) = (call.a as *const f32, call.b as *const f32);
    for i in 0..call.m {
        for j in 0..call.n {
            let mut s = 0f64;
            for p in 0..call.k {
                let av = if call.transa {
                    *pa.add(p + i * call.lda)
                } else {
                    *pa.add(i + p * call.lda)
                };
                let bv = if call.transb {
                    *pb.add(j + p * call.ldb)
                } else {
                    *pb.add(p + j * call.ldb)
                };
                s += av as f64 * bv as f64;
            }
            let cv = c.add(i + j * call.ldc);
            // BLAS does not read C when beta is zero (it may hold garbage, NaN included).
            *cv = if beta == 0.0 {
                s as f32
            } else {
                s as f32 + beta * *cv
            };
        }
    }
}

struct Rng(u64);
impl Rng {
    fn vec(&mut self, n: usize) -> Vec<f32> {
        (0..n)
            .map(|_| {
                self.0 = self
                    .0
                    .wrapping_mul(6364136223846793005)
                    .wrapping_add(1442695040888963407);
                ((self.0 >> 33) as f32 / (1u64 << 31) as f32) * 2.0 - 1.0
            })
            .collect()
    }
}

fn assert_close(what: &str, got: &[f32], want: &[f32], tol: f32) {
    assert_eq!(got.len(), want.len(), "{what}: length");
    let scale = want.iter().fold(1e-6f32, |m, v| m.max(v.abs()));
    for (i, (g, w)) in got.iter().zip(want).enumerate() {
        assert!(
            (g - w).abs() <= tol * scale,
            "{what}[{i}]: kernel {g}, Cpu {w} (scale {scale})"
        );
    }
}

fn ptr(v: &[f32]) -> u64 {
    v.as_ptr() as u64
}

/// One convolution through the simulated kernels (the sequence of `conv2d/cuda.rs`) and
/// through amp-nn's Cpu kernels: output and all three gradients must agree.
fn conv_case<const C: usize, const O: usize, const K: usize>(
    n: usize,
    h: usize,
    w: usize,
    s: usize,
    p: usize,
) -> Outputs {
    let mut rng = Rng((n * 1000 + h * 100 + w * 10 + K + s + p) as u64);
    let (xv, wv, bv) = (rng.vec(n * C * h * w), rng.vec(O * C * K * K), rng.vec(O));
    let (ho, wo) = ((h + 2 * p - K) / s + 1, (w + 2 * p - K) / s + 1);
    let gv = rng.vec(n * O * ho * wo);
    let d = ConvDims {
        n: n as i32,
        c: C as i32,
        h: h as i32,
        w: w as i32,
        k: K as i32,
        s: s as i32,
        p: p as i32,
        ho: ho as i32,
        wo: wo as i32,
    };
    let (np, ckk, plane) = (n * ho * wo, C * K * K, ho * wo);

    // Forward.
    let mut col = vec![f32::NAN; ckk * np];
    per_element(ckk * np, || unsafe {
        im2col(xv.as_ptr(), col.as_mut_ptr(), d)
    });
    let mut t = vec![f32::NAN; O * np];
    unsafe {
        sgemm(
            (O, np, ckk),
            Mat::n(ptr(&wv), ckk),
            Mat::n(ptr(&col), np),
            0.0,
            t.as_mut_ptr(),
            np,
        )
    };
    let mut y = vec![f32::NAN; n * O * plane];
    per_element(y.len(), || unsafe {
        cnp_to_nchw(
            t.as_ptr(),
            bv.as_ptr(),
            y.as_mut_ptr(),
            n as i32,
            O as i32,
            plane as i32,
        )
    });

    // Backward, from gradient slots that already hold something (kernels accumulate).
    let mut gt = vec![f32::NAN; O * np];
    per_element(O * np, || unsafe {
        nchw_to_cnp(
            gv.as_ptr(),
            gt.as_mut_ptr(),
            n as i32,
            O as i32,
            plane as i32,
        )
    });
    let mut gb = vec![0.5f32; O];
    per_block(O, || unsafe {
        row_sum_add(gt.as_ptr(), gb.as_mut_ptr(), np)
    });
    per_element(ckk * np, || unsafe {
        im2col(xv.as_ptr(), col.as_mut_ptr(), d)
    });
    let mut gw = vec![0.5f32; O * ckk];
    unsafe {
        sgemm(
            (O, ckk, np),
            Mat::n(ptr(&gt), np),
            Mat::t(ptr(&col), np),
            1.0,
            gw.as_mut_ptr(),
            ckk,
        );
        sgemm(
            (ckk, np, O),
            Mat::t(ptr(&wv), ckk),
            Mat::n(ptr(&gt), np),
            0.0,
            col.as_mut_ptr(),
            np,
        );
    }
    let mut gx = vec![0.5f32; n * C * h * w];
    per_element(gx.len(), || unsafe {
        col2im_add(col.as_ptr(), gx.as_mut_ptr(), d)
    });

    let dev = Cpu::default();
    let x = dev.tensor_from_vec(xv.clone(), (n, Const::<C>, h, w));
    let wt: Tensor<Rank4<O, C, K, K>, f32, Cpu> =
        dev.tensor_from_vec(wv.clone(), (Const, Const, Const, Const));
    let b: Tensor<Rank1<O>, f32, Cpu> = dev.tensor_from_vec(bv.clone(), (Const,));
    let cy = Cpu::conv2d(x.leaky_trace(), &wt, Some(&b), s, p).unwrap();
    assert_close("conv y", &y, &cy.as_vec(), 1e-5);
    let r = dev.tensor_from_vec(gv.clone(), *cy.shape());
    let g = (cy * r).sum::<(), _>().backward();
    let plus = |v: Vec<f32>| v.into_iter().map(|v| v + 0.5).collect::<Vec<_>>();
    let geom = format!("C{C} O{O} K{K} {h}x{w} s{s} p{p}");
    assert_close(
        &format!("conv gx {geom}"),
        &gx,
        &plus(g.get(&x).as_vec()),
        1e-5,
    );
    assert_close(
        &format!("conv gw {geom}"),
        &gw,
        &plus(g.get(&wt).as_vec()),
        1e-5,
    );
    assert_close(
        &format!("conv gb {geom}"),
        &gb,
        &plus(g.get(&b).as_vec()),
        1e-5,
    );
    Outputs::default()
        .f32("y", &y)
        .f32("gx", &gx)
        .f32("gw", &gw)
        .f32("gb", &gb)
}

#[test]
fn convolution_kernels_match_the_cpu_path() {
    under_every_schedule("conv 1", || conv_case::<3, 4, 3>(2, 7, 9, 1, 1));
    under_every_schedule("conv 2", || conv_case::<4, 6, 3>(2, 8, 8, 2, 1));
    under_every_schedule("conv 3", || conv_case::<5, 4, 1>(3, 6, 6, 2, 0));
    under_every_schedule("conv 4", || conv_case::<2, 3, 7>(1, 9, 7, 2, 3));
    under_every_schedule("conv 5", || conv_case::<3, 2, 1>(2, 5, 5, 1, 0));
    under_every_schedule("conv 6", || conv_case::<2, 3, 3>(1, 4, 4, 1, 0));
    under_every_schedule("conv 7", || conv_case::<2, 3, 3>(2, 6, 5, 3, 2));
}

fn pool_case(kind: PoolKind, (h, w, k, s, p): (usize, usize, usize, usize, usize)) -> Outputs {
    const C: usize = 3;
    let n = 2;
    let mut rng = Rng((h * 31 + w * 7 + k + s * 3 + p) as u64);
    let xv = rng.vec(n * C * h * w);
    let (ho, wo) = ((h + 2 * p - k) / s + 1, (w + 2 * p - k) / s + 1);
    let gv = rng.vec(n * C * ho * wo);
    let d = PoolDims {
        planes: (n * C) as i32,
        h: h as i32,
        w: w as i32,
        ho: ho as i32,
        wo: wo as i32,
        k: k as i32,
        s: s as i32,
        p: p as i32,
    };
    let mut y = vec![f32::NAN; gv.len()];
    let mut arg = vec![-1i32; gv.len()];
    per_element(y.len(), || unsafe {
        match kind {
            PoolKind::Max => max_forward(xv.as_ptr(), y.as_mut_ptr(), arg.as_mut_ptr(), d),
            PoolKind::Avg => avg_forward(xv.as_ptr(), y.as_mut_ptr(), d),
        }
    });
    let argp = if kind == PoolKind::Max {
        arg.as_ptr()
    } else {
        std::ptr::null()
    };
    let mut gx = vec![0.25f32; xv.len()];
    per_element(gx.len(), || unsafe {
        pool_backward(gv.as_ptr(), argp, gx.as_mut_ptr(), d)
    });

    let dev = Cpu::default();
    let x = dev.tensor_from_vec(xv, (n, Const::<C>, h, w));
    let cy = Cpu::pool2d(x.leaky_trace(), kind, k, s, p).unwrap();
    let what = format!("{kind:?} pool {h}x{w} k{k} s{s} p{p}");
    assert_close(&format!("{what} y"), &y, &cy.as_vec(), 1e-6);
    let r = dev.tensor_from_vec(gv, *cy.shape());
    let g = (cy * r).sum::<(), _>().backward();
    let want: Vec<f32> = g.get(&x).as_vec().into_iter().map(|v| v + 0.25).collect();
    assert_close(&format!("{what} gx"), &gx, &want, 1e-6);
    Outputs::default()
        .f32("y", &y)
        .i32("arg", &arg)
        .f32("gx", &gx)
}

#[test]
fn pooling_kernels_match_the_cpu_path() {
    for kind in [PoolKind::Max, PoolKind::Avg] {
        for geom in [
            (8, 8, 2, 2, 0),
            (9, 7, 3, 2, 1),
            (7, 7, 3, 1, 1),
            (6, 9, 2, 1, 0),
            (5, 5, 5, 1, 2),
        ] {
            under_every_schedule(&format!("{kind:?} pool {geom:?}"), || pool_case(kind, geom));
        }
    }
}

fn bn_case(train: bool, (n, h, w): (usize, usize, usize)) -> Outputs {
    const C: usize = 5;
    let hw = h * w;
    let mut rng = Rng(if train { 11 } else { 12 } + n as u64 * hw as u64);
    let xv: Vec<f32> = rng.vec(n * C * hw).iter().map(|v| 2.0 * v + 0.7).collect();
    let (sv, bv, rmv) = (rng.vec(C), rng.vec(C), rng.vec(C));
    let rvv: Vec<f32> = rng.vec(C).iter().map(|v| v.abs() + 0.5).collect();
    let gv = rng.vec(xv.len());
    let mut y = vec![f32::NAN; xv.len()];
    let (mut nrm, mut nrv) = (vec![f32::NAN; C], vec![f32::NAN; C]);
    let mut saved = vec![f64::NAN; 2 * C];
    let (mut gx, mut gs, mut gb) = (vec![0.5f32; xv.len()], vec![0.5f32; C], vec![0.5f32; C]);
    let args = BnArgs {
        x: xv.as_ptr(),
        scale: sv.as_ptr(),
        bias: bv.as_ptr(),
        rmean: rmv.as_ptr(),
        rvar: rvv.as_ptr(),
        y: y.as_mut_ptr(),
        new_rmean: nrm.as_mut_ptr(),
        new_rvar: nrv.as_mut_ptr(),
        saved: saved.as_mut_ptr(),
        gy: gv.as_ptr(),
        gx: gx.as_mut_ptr(),
        gscale: gs.as_mut_ptr(),
        gbias: gb.as_mut_ptr(),
        n: n as i32,
        c: C as i32,
        hw: hw as i32,
        eps: 1e-5,
        momentum: 0.1,
    };
    if train {
        per_block(C, || unsafe { bn_train_forward(args) });
        per_block(C, || unsafe { bn_train_backward(args) });
    } else {
        per_element(xv.len(), || unsafe { bn_eval_forward(args) });
        per_block(C, || unsafe { bn_eval_backward(args) });
    }

    let dev = Cpu::default();
    let x = dev.tensor_from_vec(xv.clone(), (n, Const::<C>, h, w));
    let s: Tensor<Rank1<C>, f32, Cpu> = dev.tensor_from_vec(sv, (Const,));
    let b: Tensor<Rank1<C>, f32, Cpu> = dev.tensor_from_vec(bv, (Const,));
    let mut rm: Tensor<Rank1<C>, f32, Cpu> = dev.tensor_from_vec(rmv.clone(), (Const,));
    let mut rv: Tensor<Rank1<C>, f32, Cpu> = dev.tensor_from_vec(rvv.clone(), (Const,));
    let cy = if train {
        Cpu::batchnorm2d_train(x.leaky_trace(), &s, &b, &mut rm, &mut rv, 1e-5, 0.1, false).unwrap()
    } else {
        Cpu::batchnorm2d_eval(x.leaky_trace(), &s, &b, &rm, &rv, 1e-5, false).unwrap()
    };
    let what = if train { "bn train" } else { "bn eval" };
    assert_close(&format!("{what} y"), &y, &cy.as_vec(), 1e-5);
    if train {
        assert_close("bn running mean", &nrm, &rm.as_vec(), 1e-6);
        assert_close("bn running var", &nrv, &rv.as_vec(), 1e-6);
    }
    let r = dev.tensor_from_vec(gv, *cy.shape());
    let g = (cy * r).sum::<(), _>().backward();
    let plus = |v: Vec<f32>| v.into_iter().map(|v| v + 0.5).collect::<Vec<_>>();
    assert_close(&format!("{what} gx"), &gx, &plus(g.get(&x).as_vec()), 1e-5);
    assert_close(
        &format!("{what} gscale"),
        &gs,
        &plus(g.get(&s).as_vec()),
        1e-5,
    );
    assert_close(
        &format!("{what} gbias"),
        &gb,
        &plus(g.get(&b).as_vec()),
        1e-5,
    );
    Outputs::default()
        .f32("y", &y)
        .f32("running mean", &nrm)
        .f32("running var", &nrv)
        .f64("saved", &saved)
        .f32("gx", &gx)
        .f32("gscale", &gs)
        .f32("gbias", &gb)
}

#[test]
fn batch_norm_kernels_match_the_cpu_path() {
    // 72 values per channel (fewer than a block's threads) and 1,250 (more than two rounds).
    for dims in [(3, 4, 6), (2, 25, 25)] {
        for train in [true, false] {
            under_every_schedule(&format!("bn train={train} {dims:?}"), || {
                bn_case(train, dims)
            });
        }
    }
}

/// amp-core's tap kernels: the squared norm (of the values before scaling) lands in its slot,
/// added to what is there, and the gradient is scaled in the same pass; the grid is the one
/// amp-core launches (blocks = min(ceil(n / 256), 1024)).
#[test]
fn norm_and_scale_kernels_sum_every_element_once() {
    for n in [1usize, 255, 256, 1000, 300_000] {
        under_every_schedule(&format!("norm n={n}"), || norm_case(n));
    }
}

fn norm_case(n: usize) -> Outputs {
    let g0 = Rng(n as u64).vec(n);
    let mut g = g0.clone();
    let blocks = n.div_ceil(NORM_THREADS).min(1024);
    let mut partial = vec![f64::NAN; 1024];
    let mut acc = vec![0.0f64, 10.0, 0.0];
    launch((blocks, 1), NORM_THREADS, || unsafe {
        measure_scale_f32(g.as_mut_ptr(), n, 0.5, 1, partial.as_mut_ptr())
    });
    launch((1, 1), NORM_THREADS, || unsafe {
        add_partials_f32(partial.as_ptr(), blocks as i32, acc.as_mut_ptr(), 1)
    });
    let want: f64 = g0.iter().map(|&v| v as f64 * v as f64).sum();
    assert!(
        (acc[1] - 10.0 - want).abs() <= 1e-9 * want.max(1.0),
        "n={n}: {} vs {want}",
        acc[1] - 10.0
    );
    assert_eq!((acc[0], acc[2]), (0.0, 0.0), "other slots untouched");
    assert!(
        g.iter().zip(&g0).all(|(a, b)| *a == b * 0.5),
        "n={n}: scaled in place"
    );
    Outputs::default().f64("acc", &acc).f32("g", &g)
}

type Faulty = unsafe extern "C" fn(*const f64, *mut f64);

/// A faulty kernel of kernels_on_cpu/faulty.cu on 256 values, as `blocks` blocks of 256
/// threads under `schedule`, checking for races or not; its output, or the simulation's error.
fn faulty(
    kernel: Faulty,
    blocks: usize,
    schedule: Schedule,
    races: bool,
) -> Result<Vec<f64>, String> {
    let x: Vec<f64> = Rng(5).vec(256).into_iter().map(f64::from).collect();
    let mut out = vec![0.0; 256];
    SCHEDULE.set(schedule);
    CHECK_RACES.set(races);
    let run = try_launch((blocks, 1), 256, || unsafe {
        kernel(x.as_ptr(), out.as_mut_ptr())
    });
    SCHEDULE.set(Schedule::InOrder);
    CHECK_RACES.set(true);
    run.map(|()| out)
}

/// Without the race checker, a missing barrier inside a tree reduction, or between two uses
/// of the same shared array, still shows: the results depend on the schedule.
#[test]
fn the_schedules_catch_a_missing_barrier_that_changes_results() {
    for kernel in [
        faulty_tree_without_barriers as Faulty,
        faulty_reuse_without_barrier,
    ] {
        let runs: Vec<Vec<f64>> = SCHEDULES
            .iter()
            .map(|&s| faulty(kernel, 1, s, false).unwrap())
            .collect();
        assert!(
            runs.iter().any(|r| r != &runs[0]),
            "the schedules agree on a racy kernel"
        );
    }
}

/// The race checker (kernels_on_cpu/races.cpp) stops a launch at its first race, naming the
/// block, the threads, the memory and the barrier interval, under every schedule, and also
/// when no result depends on the race.
#[test]
fn the_race_checker_catches_races_that_change_no_result() {
    // Each of these gives the same bits under every schedule: only the checker sees them.
    for (kernel, blocks) in [
        (faulty_race_without_effect as Faulty, 1),
        (faulty_blocks_store_one_element, 2),
        (faulty_reads_unstored_shared, 1),
    ] {
        let runs: Vec<Vec<f64>> = SCHEDULES
            .iter()
            .map(|&s| faulty(kernel, blocks, s, false).unwrap())
            .collect();
        assert!(runs.iter().all(|r| r == &runs[0]));
    }
    let first = |kernel, blocks| faulty(kernel, blocks, Schedule::InOrder, true).unwrap_err();
    let race = |what: &str, when: &str| {
        format!("{what}, which {when}, with no __syncthreads() between: a data race")
    };
    assert_eq!(
        first(faulty_tree_without_barriers, 1),
        race(
            "block 0: thread 1 stores to faulty_tree_without_barriers::sh[1]",
            "thread 0 loaded after __syncthreads() number 1"
        )
    );
    // 9 = the barrier after the stores, then one per tree level (log2 256 = 8).
    for kernel in [
        faulty_reuse_without_barrier as Faulty,
        faulty_race_without_effect,
    ] {
        assert_eq!(
            first(kernel, 1),
            race(
                "block 0: thread 1 loads two_sums_without_barrier::sh[0]",
                "thread 0 stored to after __syncthreads() number 9"
            )
        );
    }
    let two_blocks = first(faulty_blocks_store_one_element, 2);
    assert!(
        two_blocks.starts_with("block 1: thread 0 stores to global memory at 0x")
            && two_blocks.ends_with(
                ", which block 0's thread 0 stored to in this launch: two blocks write one \
                 element (a data race)"
            ),
        "{two_blocks}"
    );
    // In a two-dimensional grid the blocks are named (x, y).
    let (x, mut out) = (vec![1.0f64; 256], vec![0.0f64; 256]);
    let two_rows = try_launch((1, 2), 256, || unsafe {
        faulty_blocks_store_one_element(x.as_ptr(), out.as_mut_ptr())
    })
    .unwrap_err();
    assert!(
        two_rows.starts_with("block (0, 1): thread 0 stores to global memory")
            && two_rows.contains("which block (0, 0)'s thread 0 stored to in this launch"),
        "{two_rows}"
    );
    assert_eq!(
        first(faulty_reads_unstored_shared, 1),
        "block 0: thread 0 loads faulty_reads_unstored_shared::sh[128], which no thread of its \
         block stored to first: on a GPU it holds whatever was left there"
    );
    for kernel in [
        faulty_tree_without_barriers as Faulty,
        faulty_reuse_without_barrier,
        faulty_race_without_effect,
        faulty_reads_unstored_shared,
    ] {
        for schedule in SCHEDULES {
            assert!(faulty(kernel, 1, schedule, true).is_err(), "{schedule:?}");
        }
    }
}

/// A store to what another block of the launch loaded is a race too: in block order (block 0
/// loads, then block 1 stores) the checker sees the store, in reverse order the load.
#[test]
fn the_race_checker_catches_a_store_to_what_another_block_loaded() {
    let runs: Vec<Vec<f64>> = SCHEDULES
        .iter()
        .map(|&s| faulty(faulty_loads_what_another_block_overwrites, 2, s, false).unwrap())
        .collect();
    assert!(
        runs.iter().any(|r| r[127] != runs[0][127]),
        "the block order changes what block 0's last thread loads"
    );
    let in_order = faulty(
        faulty_loads_what_another_block_overwrites,
        2,
        Schedule::InOrder,
        true,
    )
    .unwrap_err();
    let handshake = ", with no fence-and-atomic handshake between the two blocks: a data race";
    assert!(
        in_order.starts_with("block 1: thread 0 stores to global memory at 0x")
            && in_order.ends_with(&format!(
                ", which block 0's thread 127 loaded in this launch{handshake}"
            )),
        "{in_order}"
    );
    let reversed = faulty(
        faulty_loads_what_another_block_overwrites,
        2,
        Schedule::Reversed,
        true,
    )
    .unwrap_err();
    assert!(
        reversed.starts_with("block 0: thread 127 loads global memory at 0x")
            && reversed.ends_with(&format!(
                ", which block 1's thread 0 stored to in this launch{handshake}"
            )),
        "{reversed}"
    );
}

/// Every block that loaded a word counts, not only the first two: of three blocks loading
/// what a fourth overwrites, the two that fence before counting themselves in are ordered, the
/// third is the race.
#[test]
fn the_race_checker_sees_every_block_that_loaded_a_word() {
    let err = faulty(
        faulty_third_loader_without_release,
        4,
        Schedule::InOrder,
        true,
    )
    .unwrap_err();
    assert!(
        err.starts_with("block 3: thread 0 stores to global memory at 0x")
            && err.ends_with(
                ", which block 2's thread 0 loaded in this launch, with no fence-and-atomic \
                 handshake between the two blocks: a data race"
            ),
        "{err}"
    );
}

/// A sum across blocks by the last block to finish (amp-core's one-launch norm) passes the
/// checker with both fences of its handshake, under every schedule (so with any block last),
/// and is a race without either.
#[test]
fn the_race_checker_checks_the_last_block_handshake() {
    let x: Vec<f64> = Rng(5).vec(256).into_iter().map(f64::from).collect();
    let want = 4.0 * x.iter().sum::<f64>();
    for schedule in SCHEDULES {
        let out = faulty(last_block_sum_done_right, 4, schedule, true).unwrap();
        assert!(
            (out[0] - want).abs() < 1e-9,
            "{schedule:?}: {} vs {want}",
            out[0]
        );
    }
    for kernel in [
        faulty_last_block_without_release as Faulty,
        faulty_last_block_without_acquire,
    ] {
        let err = faulty(kernel, 4, Schedule::InOrder, true).unwrap_err();
        assert!(
            err.starts_with("block 3: thread 0 loads global memory at 0x")
                && err.ends_with(
                    ", which block 0's thread 0 stored to in this launch, with no \
                     fence-and-atomic handshake between the two blocks: a data race"
                ),
            "{err}"
        );
    }
}

/// A count touched by atomics must see nothing else: a plain load beside the atomics is a race
/// in either order, and so is resetting it with a plain store (amp's kernels let atomicInc wrap
/// it to 0).
#[test]
fn the_race_checker_catches_plain_accesses_to_an_atomic_count() {
    let mixed = "in this launch: a word counted with atomics must see atomics only (a data race)";
    let in_order = faulty(faulty_peeks_at_a_count, 1, Schedule::InOrder, true).unwrap_err();
    assert!(
        in_order.starts_with("block 0: thread 1 loads global memory at 0x")
            && in_order.ends_with(&format!(", which another thread made an atomic on {mixed}")),
        "{in_order}"
    );
    let reversed = faulty(faulty_peeks_at_a_count, 1, Schedule::Reversed, true).unwrap_err();
    assert!(
        reversed.starts_with("block 0: thread 0 makes an atomic on global memory at 0x")
            && reversed.ends_with(&format!(
                ", which another thread loaded or stored to {mixed}"
            )),
        "{reversed}"
    );
    // Without the checker both orders run; only the checker sees the reset.
    for schedule in SCHEDULES {
        faulty(faulty_resets_a_count_plainly, 4, schedule, false).unwrap();
    }
    let reset = faulty(faulty_resets_a_count_plainly, 4, Schedule::InOrder, true).unwrap_err();
    assert!(
        reset.starts_with("block 3: thread 0 stores to global memory at 0x")
            && reset.ends_with(&format!(", which another thread made an atomic on {mixed}")),
        "{reset}"
    );
}

/// A barrier that some threads of a block never reach stops the launch with an error.
#[test]
fn the_simulation_catches_a_divergent_barrier() {
    assert_eq!(
        faulty(faulty_divergent_barrier, 1, Schedule::InOrder, true).unwrap_err(),
        "block 0: thread 0 (and 31 more) waits at __syncthreads() number 1 that thread 32 \
         (and 223 more) returned without reaching: a divergent barrier"
    );
}
