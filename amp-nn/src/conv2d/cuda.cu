// Convolution kernels for amp-nn's CUDA path (compiled at run time by NVRTC; see cuda.rs).
//
// Layouts: images NCHW; the column matrix `col` is (C*K*K) x (N*Ho*Wo), row
// r = (c*K + kh)*K + kw (the PyTorch weight layout (O, C, K, K) flattened to (O, C*K*K)),
// column j = n*Ho*Wo + oh*Wo + ow, as in the Cpu path (im2col.rs).
// Every kernel writes each output element from one thread, in a fixed order: results do not
// depend on scheduling (no atomics).

struct ConvDims {
    int n, c, h, w, k, s, p, ho, wo;
};

extern "C" __global__ void im2col(const float* x, float* col, ConvDims d) {
    size_t np = (size_t)d.n * d.ho * d.wo;
    size_t total = (size_t)d.c * d.k * d.k * np;
    size_t i = (size_t)blockIdx.x * blockDim.x + threadIdx.x;
    if (i >= total) return;
    int ow = i % d.wo;
    size_t r = i / d.wo;
    int oh = r % d.ho; r /= d.ho;
    int n = r % d.n; r /= d.n;
    int kw = r % d.k; r /= d.k;
    int kh = r % d.k;
    int c = r / d.k;
    int h = oh * d.s - d.p + kh;
    int w = ow * d.s - d.p + kw;
    col[i] = (h >= 0 && h < d.h && w >= 0 && w < d.w)
        ? x[(((size_t)n * d.c + c) * d.h + h) * d.w + w] : 0.0f;
}

// gx[n, c, h, w] += sum of the column entries that im2col copied from (n, c, h, w), gathered
// in (kh, kw) order.
extern "C" __global__ void col2im_add(const float* gcol, float* gx, ConvDims d) {
    size_t total = (size_t)d.n * d.c * d.h * d.w;
    size_t i = (size_t)blockIdx.x * blockDim.x + threadIdx.x;
    if (i >= total) return;
    int w = i % d.w;
    size_t r = i / d.w;
    int h = r % d.h; r /= d.h;
    int c = r % d.c;
    int n = r / d.c;
    size_t np = (size_t)d.n * d.ho * d.wo;
    size_t img = (size_t)n * d.ho * d.wo;
    float acc = 0.0f;
    for (int kh = 0; kh < d.k; kh++) {
        int th = h + d.p - kh;
        if (th < 0 || th % d.s != 0) continue;
        int oh = th / d.s;
        if (oh >= d.ho) continue;
        for (int kw = 0; kw < d.k; kw++) {
            int tw = w + d.p - kw;
            if (tw < 0 || tw % d.s != 0) continue;
            int ow = tw / d.s;
            if (ow >= d.wo) continue;
            acc += gcol[((size_t)(c * d.k + kh) * d.k + kw) * np + img + (size_t)oh * d.wo + ow];
        }
    }
    gx[i] += acc;
}

// y[n, o, p] = t[o, n*plane + p] + bias[o] (bias may be null): the GEMM's (O, N*plane)
// result to NCHW.
extern "C" __global__ void cnp_to_nchw(const float* t, const float* bias, float* y,
                                       int n, int o, int plane) {
    size_t total = (size_t)n * o * plane;
    size_t i = (size_t)blockIdx.x * blockDim.x + threadIdx.x;
    if (i >= total) return;
    int p = i % plane;
    size_t r = i / plane;
    int oc = r % o;
    int img = r / o;
    float v = t[(size_t)oc * n * plane + (size_t)img * plane + p];
    y[i] = bias ? v + bias[oc] : v;
}

// t[o, n*plane + p] = g[n, o, p]: NCHW to the GEMM layout.
extern "C" __global__ void nchw_to_cnp(const float* g, float* t, int n, int o, int plane) {
    size_t total = (size_t)n * o * plane;
    size_t i = (size_t)blockIdx.x * blockDim.x + threadIdx.x;
    if (i >= total) return;
    int p = i % plane;
    size_t r = i / plane;
    int img = r % n;
    int oc = r / n;
    t[i] = g[((size_t)img * o + oc) * plane + p];
}

// out[row] += sum of t[row, 0..len]: one block of 512 threads per row, each summing a fixed
// strided subset in f64, then a fixed tree.
extern "C" __global__ void row_sum_add(const float* t, float* out, size_t len) {
    __shared__ double part[512];
    const float* row = t + (size_t)blockIdx.x * len;
    double acc = 0.0;
    for (size_t j = threadIdx.x; j < len; j += blockDim.x) acc += row[j];
    part[threadIdx.x] = acc;
    __syncthreads();
    for (int k = blockDim.x / 2; k > 0; k >>= 1) {
        if (threadIdx.x < k) part[threadIdx.x] += part[threadIdx.x + k];
        __syncthreads();
    }
    if (threadIdx.x == 0) out[blockIdx.x] += (float)part[0];
}
