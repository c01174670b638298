// amp's CUDA C kernels as C++ (cuda.h), for the CPU simulation (shim.cpp). build.rs compiles
// this file, and only this file, with GCC's -fsanitize=thread instrumentation: every load and
// store the kernels make calls races.cpp, which checks it against the others of the launch.

#include "tests/kernels_on_cpu/cuda.h"

#include "amp-nn/src/conv2d/cuda.cu"
#include "amp-nn/src/pool/cuda.cu"
#include "amp-nn/src/batchnorm2d/cuda.cu"
#include "amp_core_f32.cu"
#include "tests/kernels_on_cpu/faulty.cu"
