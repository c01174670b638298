// Batch-norm kernels for amp-nn's CUDA path (compiled at run time by NVRTC; see cuda.rs).
//
// Images NCHW: channel c of image i is the plane x[(i*C + c)*HW .. +HW]. The per-channel
// kernels run one block of 512 threads per channel; each thread sums a fixed strided subset
// in f64 and the block adds the partial sums in a fixed tree, so results are reproducible.
// The formulas and the f64 statistics follow the Cpu path (cpu.rs).

struct BnArgs {
    const float* x;
    const float* scale;
    const float* bias;
    const float* rmean;
    const float* rvar;
    float* y;
    float* new_rmean;
    float* new_rvar;
    double* saved;   // train: mean[C], inv_std[C] for the backward pass
    const float* gy;
    float* gx;
    float* gscale;
    float* gbias;
    int n, c, hw;
    double eps, momentum;
};

__device__ double block_sum(double v, double* sh) {
    sh[threadIdx.x] = v;
    __syncthreads();
    for (int k = blockDim.x / 2; k > 0; k >>= 1) {
        if (threadIdx.x < k) sh[threadIdx.x] += sh[threadIdx.x + k];
        __syncthreads();
    }
    double r = sh[0];
    __syncthreads();
    return r;
}

__device__ size_t at(const BnArgs& a, int ch, size_t e) {
    size_t img = e / a.hw;
    return (img * a.c + ch) * a.hw + e % a.hw;
}

// Batch statistics, normalised output, running statistics (unbiased variance), saved stats.
extern "C" __global__ void bn_train_forward(BnArgs a) {
    __shared__ double sh[512];
    int ch = blockIdx.x;
    size_t count = (size_t)a.n * a.hw;
    double s = 0.0;
    for (size_t e = threadIdx.x; e < count; e += blockDim.x) s += a.x[at(a, ch, e)];
    double mean = block_sum(s, sh) / count;
    float m = (float)mean;
    double v = 0.0;
    for (size_t e = threadIdx.x; e < count; e += blockDim.x) {
        float d = a.x[at(a, ch, e)] - m;
        v += (double)(d * d);
    }
    double var = block_sum(v, sh) / count;
    double inv_std = 1.0 / sqrt(var + a.eps);
    float ka = (float)((double)a.scale[ch] * inv_std);
    float kb = (float)((double)a.bias[ch] - mean * (double)ka);
    for (size_t e = threadIdx.x; e < count; e += blockDim.x) {
        size_t i = at(a, ch, e);
        a.y[i] = a.x[i] * ka + kb;
    }
    if (threadIdx.x == 0) {
        a.saved[ch] = mean;
        a.saved[a.c + ch] = inv_std;
        double unbiased = var * count / (count - 1.0);
        a.new_rmean[ch] = (float)((1.0 - a.momentum) * a.rmean[ch] + a.momentum * mean);
        a.new_rvar[ch] = (float)((1.0 - a.momentum) * a.rvar[ch] + a.momentum * unbiased);
    }
}

// Shared by both backward passes: sums of dy and dy*(x - center) per channel, the parameter
// gradients, and gx += dy*ka + x*kb + kc. `train` selects the batch-statistics formula.
__device__ void backward(const BnArgs& a, double center, double inv_std, bool train) {
    __shared__ double sh[512];
    int ch = blockIdx.x;
    size_t count = (size_t)a.n * a.hw;
    float m = (float)center;
    double sg = 0.0, sgx = 0.0;
    for (size_t e = threadIdx.x; e < count; e += blockDim.x) {
        size_t i = at(a, ch, e);
        float g = a.gy[i];
        sg += g;
        sgx += (double)(g * (a.x[i] - m));
    }
    sg = block_sum(sg, sh);
    sgx = block_sum(sgx, sh);
    if (threadIdx.x == 0) {
        a.gscale[ch] += (float)(sgx * inv_std);
        a.gbias[ch] += (float)sg;
    }
    double gm = a.scale[ch];
    double ka = gm * inv_std, kb = 0.0, kc = 0.0;
    if (train) {
        kb = -gm * inv_std * inv_std * inv_std * sgx / count;
        kc = -gm * inv_std * sg / count - kb * center;
    }
    float fa = (float)ka, fb = (float)kb, fc = (float)kc;
    for (size_t e = threadIdx.x; e < count; e += blockDim.x) {
        size_t i = at(a, ch, e);
        a.gx[i] += a.gy[i] * fa + a.x[i] * fb + fc;
    }
}

extern "C" __global__ void bn_train_backward(BnArgs a) {
    int ch = blockIdx.x;
    backward(a, a.saved[ch], a.saved[a.c + ch], true);
}

// Inference: y = x*ka + kb with the running statistics, one thread per element.
extern "C" __global__ void bn_eval_forward(BnArgs a) {
    size_t total = (size_t)a.n * a.c * a.hw;
    size_t i = (size_t)blockIdx.x * blockDim.x + threadIdx.x;
    if (i >= total) return;
    int ch = (i / a.hw) % a.c;
    double inv_std = 1.0 / sqrt((double)a.rvar[ch] + a.eps);
    float ka = (float)((double)a.scale[ch] * inv_std);
    float kb = (float)((double)a.bias[ch] - (double)a.rmean[ch] * (double)ka);
    a.y[i] = a.x[i] * ka + kb;
}

extern "C" __global__ void bn_eval_backward(BnArgs a) {
    int ch = blockIdx.x;
    backward(a, a.rmean[ch], 1.0 / sqrt((double)a.rvar[ch] + a.eps), false);
}
