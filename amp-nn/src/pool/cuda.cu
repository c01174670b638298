// Pooling kernels for amp-nn's CUDA path (compiled at run time by NVRTC; see cuda.rs).
// Square windows; `planes` = N*C planes of h x w in, ho x wo out. Same semantics as the Cpu
// path (cpu.rs): max pooling ignores padding (first maximum wins, a NaN wins) and records the
// arg-max; average pooling counts padding as zeros. Backward gathers, one thread per input
// element, in a fixed order (no atomics).

// NVRTC compiles without headers, so math.h's INFINITY is not there.
#ifndef INFINITY
#define INFINITY __int_as_float(0x7f800000)
#endif

struct PoolDims {
    int planes, h, w, ho, wo, k, s, p;
};

// The window of output (oh, ow), clipped to the image.
__device__ void window(const PoolDims& d, int oh, int ow, int* r0, int* r1, int* c0, int* c1) {
    int a = oh * d.s - d.p, b = ow * d.s - d.p;
    *r0 = max(a, 0); *r1 = min(a + d.k, d.h);
    *c0 = max(b, 0); *c1 = min(b + d.k, d.w);
}

extern "C" __global__ void max_forward(const float* x, float* y, int* arg, PoolDims d) {
    size_t howo = (size_t)d.ho * d.wo;
    size_t i = (size_t)blockIdx.x * blockDim.x + threadIdx.x;
    if (i >= (size_t)d.planes * howo) return;
    size_t pl = i / howo;
    int oh = (i % howo) / d.wo, ow = i % d.wo;
    int r0, r1, c0, c1;
    window(d, oh, ow, &r0, &r1, &c0, &c1);
    const float* plane = x + pl * d.h * d.w;
    float best = -INFINITY;
    int best_i = r0 * d.w + c0;
    for (int r = r0; r < r1; r++)
        for (int c = c0; c < c1; c++) {
            float v = plane[r * d.w + c];
            if (v > best || isnan(v)) { best = v; best_i = r * d.w + c; }
        }
    y[i] = best;
    arg[i] = best_i;
}

extern "C" __global__ void avg_forward(const float* x, float* y, PoolDims d) {
    size_t howo = (size_t)d.ho * d.wo;
    size_t i = (size_t)blockIdx.x * blockDim.x + threadIdx.x;
    if (i >= (size_t)d.planes * howo) return;
    size_t pl = i / howo;
    int oh = (i % howo) / d.wo, ow = i % d.wo;
    int r0, r1, c0, c1;
    window(d, oh, ow, &r0, &r1, &c0, &c1);
    const float* plane = x + pl * d.h * d.w;
    float acc = 0.0f;
    for (int r = r0; r < r1; r++)
        for (int c = c0; c < c1; c++) acc += plane[r * d.w + c];
    y[i] = acc * (1.0f / (float)(d.k * d.k));
}

// The outputs whose windows contain input row r: oh in [lo, hi).
__device__ void covering(int r, int n_in, int n_out, const PoolDims& d, int* lo, int* hi) {
    int t = r + d.p - d.k + 1;  // smallest oh*s with r < oh*s - p + k
    *lo = t <= 0 ? 0 : (t + d.s - 1) / d.s;
    *hi = min((r + d.p) / d.s + 1, n_out);
}

// gx[pl, r, c] += sum of gy over the windows whose arg-max is (r, c) (max) or that contain
// (r, c) (average, times 1/k^2).
extern "C" __global__ void pool_backward(const float* gy, const int* arg, float* gx, PoolDims d) {
    size_t hw = (size_t)d.h * d.w;
    size_t i = (size_t)blockIdx.x * blockDim.x + threadIdx.x;
    if (i >= (size_t)d.planes * hw) return;
    size_t pl = i / hw;
    int r = (i % hw) / d.w, c = i % d.w;
    int oh0, oh1, ow0, ow1;
    covering(r, d.h, d.ho, d, &oh0, &oh1);
    covering(c, d.w, d.wo, d, &ow0, &ow1);
    size_t base = pl * d.ho * d.wo;
    int self = r * d.w + c;
    float acc = 0.0f;
    for (int oh = oh0; oh < oh1; oh++)
        for (int ow = ow0; ow < ow1; ow++) {
            size_t o = base + (size_t)oh * d.wo + ow;
            if (arg) {
                if (arg[o] == self) acc += gy[o];
            } else {
                acc += gy[o] * (1.0f / (float)(d.k * d.k));
            }
        }
    gx[i] += acc;
}
