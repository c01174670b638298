// amp-core's gradient kernels (compiled at run time by NVRTC; see cuda.rs, which instantiates
// this source once per element type by replacing REAL and SUFFIX).
//
// A squared norm is summed by a grid whose size depends only on the length (see cuda.rs):
// each thread sums a fixed strided subset in f64, each block a fixed tree into `partial`, and
// `add_partials` adds the blocks in a fixed tree into the slot. So the bits do not depend on
// scheduling.

extern "C" __global__ void measure_scale_SUFFIX(REAL* g, size_t n, double k, int scale,
                                                double* partial) {
    __shared__ double sh[256];
    double acc = 0.0;
    size_t step = (size_t)gridDim.x * blockDim.x;
    for (size_t i = (size_t)blockIdx.x * blockDim.x + threadIdx.x; i < n; i += step) {
        REAL v = g[i];
        acc += (double)v * (double)v;
        if (scale) g[i] = v * (REAL)k;
    }
    sh[threadIdx.x] = acc;
    __syncthreads();
    for (int s = blockDim.x / 2; s > 0; s >>= 1) {
        if (threadIdx.x < s) sh[threadIdx.x] += sh[threadIdx.x + s];
        __syncthreads();
    }
    if (threadIdx.x == 0) partial[blockIdx.x] = sh[0];
}

extern "C" __global__ void add_partials_SUFFIX(const double* partial, int parts, double* acc,
                                               int slot) {
    __shared__ double sh[256];
    double v = 0.0;
    for (int i = threadIdx.x; i < parts; i += blockDim.x) v += partial[i];
    sh[threadIdx.x] = v;
    __syncthreads();
    for (int s = blockDim.x / 2; s > 0; s >>= 1) {
        if (threadIdx.x < s) sh[threadIdx.x] += sh[threadIdx.x + s];
        __syncthreads();
    }
    if (threadIdx.x == 0) acc[slot] += sh[0];
}

extern "C" __global__ void scale_SUFFIX(REAL* g, size_t n, double k) {
    size_t i = (size_t)blockIdx.x * blockDim.x + threadIdx.x;
    if (i < n) g[i] = g[i] * (REAL)k;
}
