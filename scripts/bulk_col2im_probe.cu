// Probe (session 25): does staging col2im's column rows through the bulk copy engine
// (cp.async.bulk into shared memory, two stages on mbarriers, persistent grid) read them at
// streaming speed, where the item walk's per-thread loads reach ~1.5 TB/s?
// One fcn_up-like chunk (256 channels, 4x4 taps, stride 2, pad 1, 32 input rows x 64 columns,
// 64 output rows x 128 columns), float32. Three kernels on the same bytes:
//   walk   - the item walk's pattern: a thread per (channel, h phase, 4 cells, output column);
//   bulk   - a block per tile (channel, 8 output rows): the 16 taps' row ranges copied by
//            cp.async.bulk, summed from shared memory (same sums, same order as walk);
//   stream - the floor: columns read and output written once, 16-byte accesses.
// Run under ncu (kernels serialised, caches flushed) beside the library's kernels' numbers.
//   nvcc -O3 -gencode=arch=compute_90,code=sm_90 -o probe bulk_col2im_probe.cu
#include <cstdio>
#include <cstdlib>
#include <cstdint>
#include <cuda_runtime.h>

constexpr int C = 256, K = 4, S = 2, PAD = 1, QH = 32, XW = 64, OH = 64, OW = 128;
constexpr int TAPS = K * K;
constexpr int BAND = 8;                 // output rows per bulk tile
constexpr int QROWS = 6;                // input rows a tap reads for one band, at most
constexpr int STAGE_FLOATS = TAPS * QROWS * XW;  // 24 KB

#define CK(x) do { cudaError_t e = (x); if (e != cudaSuccess) { printf("%s: %s\n", #x, cudaGetErrorString(e)); exit(1); } } while (0)

__device__ __forceinline__ const float* col_at(const float* col, int c, int i, int j, int q, int x) {
  return col + ((((size_t)c * K + i) * K + j) * QH + q) * XW + x;
}

__global__ void walk_kernel(const float* __restrict__ col, float* __restrict__ out) {
  const int items = C * S * (QH / 4 + 1) * OW;
  for (int it = blockIdx.x * blockDim.x + threadIdx.x; it < items; it += gridDim.x * blockDim.x) {
    int ow = it % OW, rest = it / OW;
    int seg = rest % (QH / 4 + 1); rest /= (QH / 4 + 1);
    int ph = rest % S, c = rest / S;
    const int tw = ow + PAD, pw = tw % S, xcell = tw / S;
    float acc[4] = {0, 0, 0, 0};
    const int cell0 = seg * 4;
    for (int i = ph; i < K; i += S) {
      const int dq = (i - ph) / S;
      for (int j = pw; j < K; j += S) {
        const int x = xcell - (j - pw) / S;
        if (x < 0 || x >= XW) continue;
#pragma unroll
        for (int r = 0; r < 4; ++r) {
          const int q = cell0 + r - dq;
          if (q >= 0 && q < QH) acc[r] += *col_at(col, c, i, j, q, x);
        }
      }
    }
#pragma unroll
    for (int r = 0; r < 4; ++r) {
      const int oh = (cell0 + r) * S + ph - PAD;
      if (oh >= 0 && oh < OH) out[((size_t)c * OH + oh) * OW + ow] = acc[r];
    }
  }
}

__device__ __forceinline__ void mbar_init(uint64_t* bar, int count) {
  asm volatile("mbarrier.init.shared::cta.b64 [%0], %1;" :: "r"((unsigned)__cvta_generic_to_shared(bar)), "r"(count));
}
__device__ __forceinline__ void mbar_expect(uint64_t* bar, unsigned bytes) {
  asm volatile("mbarrier.arrive.expect_tx.shared::cta.b64 _, [%0], %1;" :: "r"((unsigned)__cvta_generic_to_shared(bar)), "r"(bytes) : "memory");
}
__device__ __forceinline__ void mbar_wait(uint64_t* bar, unsigned parity) {
  asm volatile(
      "{\n .reg .pred p;\n WAIT_%=:\n"
      " mbarrier.try_wait.parity.shared::cta.b64 p, [%0], %1;\n"
      " @!p bra WAIT_%=;\n}" :: "r"((unsigned)__cvta_generic_to_shared(bar)), "r"(parity) : "memory");
}
__device__ __forceinline__ void bulk_copy(void* dst, const void* src, unsigned bytes, uint64_t* bar) {
  asm volatile("cp.async.bulk.shared::cluster.global.mbarrier::complete_tx::bytes [%0], [%1], %2, [%3];"
               :: "r"((unsigned)__cvta_generic_to_shared(dst)), "l"(src), "r"(bytes),
                  "r"((unsigned)__cvta_generic_to_shared(bar)) : "memory");
}

// Tile t = (channel, band): output rows [BAND*b, BAND*b + BAND); tap rows from q_lo.
__device__ __forceinline__ int band_q_lo(int b) { return (b * BAND + PAD - (K - 1)) / S; }  // >= -1 here

__device__ void issue_tile(const float* col, float* stage, uint64_t* bar, int tile) {
  const int c = tile / (OH / BAND), b = tile % (OH / BAND);
  int q_lo = band_q_lo(b), q_hi = q_lo + QROWS;
  if (q_lo < 0) q_lo = 0;
  if (q_hi > QH) q_hi = QH;
  const unsigned bytes = (unsigned)((q_hi - q_lo) * XW * sizeof(float));
  mbar_expect(bar, bytes * TAPS);
  for (int tap = 0; tap < TAPS; ++tap)
    bulk_copy(stage + (tap * QROWS + (q_lo - band_q_lo(b))) * XW,
              col_at(col, c, tap / K, tap % K, q_lo, 0), bytes, bar);
}

template <int THREADS>
__global__ void __launch_bounds__(THREADS) bulk_kernel(const float* __restrict__ col, float* __restrict__ out) {
  extern __shared__ __align__(128) float smem[];
  __shared__ uint64_t bars[2];
  const int tiles = C * (OH / BAND);
  if (threadIdx.x == 0) { mbar_init(&bars[0], 1); mbar_init(&bars[1], 1); }
  asm volatile("fence.mbarrier_init.release.cluster;" ::: "memory");
  __syncthreads();
  int k = 0;
  if (threadIdx.x == 0 && blockIdx.x < tiles) issue_tile(col, smem, &bars[0], blockIdx.x);
  for (int tile = blockIdx.x; tile < tiles; tile += gridDim.x, ++k) {
    const int next = tile + gridDim.x;
    if (threadIdx.x == 0 && next < tiles) issue_tile(col, smem + ((k + 1) & 1) * STAGE_FLOATS, &bars[(k + 1) & 1], next);
    mbar_wait(&bars[k & 1], (k >> 1) & 1);
    const float* st = smem + (k & 1) * STAGE_FLOATS;
    const int c = tile / (OH / BAND), b = tile % (OH / BAND), q_base = band_q_lo(b);
    // thread: output column ow, rows r0, r0 + 2, ... of the band (one h phase)
    for (int e = threadIdx.x; e < BAND * OW; e += THREADS * 4) {
      const int ow = e % OW, r0 = e / OW;  // r0 < THREADS*4/OW
      const int tw = ow + PAD, pw = tw % S, xcell = tw / S;
      const int oh0 = b * BAND + r0, th0 = oh0 + PAD, ph = th0 % S, cell0 = th0 / S;
      float acc[4] = {0, 0, 0, 0};
      for (int i = ph; i < K; i += S) {
        const int dq = (i - ph) / S;
        for (int j = pw; j < K; j += S) {
          const int x = xcell - (j - pw) / S;
          if (x < 0 || x >= XW) continue;
#pragma unroll
          for (int r = 0; r < 4; ++r) {
            const int q = cell0 + r - dq;  // rows r0 + 2r of the band: cells cell0 + r
            if (q >= 0 && q < QH) acc[r] += st[((i * K + j) * QROWS + (q - q_base)) * XW + x];
          }
        }
      }
#pragma unroll
      for (int r = 0; r < 4; ++r) {
        const int oh = oh0 + S * r;
        if (oh < OH) out[((size_t)c * OH + oh) * OW + ow] = acc[r];
      }
    }
    __syncthreads();  // the stage is free for the tile after next
  }
}

__global__ void stream_kernel(const float4* __restrict__ col, float4* __restrict__ out, size_t out_vec) {
  const size_t per = (size_t)C * TAPS * QH * XW / 4 / out_vec;  // column vectors per output vector
  for (size_t o = blockIdx.x * (size_t)blockDim.x + threadIdx.x; o < out_vec; o += (size_t)gridDim.x * blockDim.x) {
    float4 s = make_float4(0, 0, 0, 0);
    for (size_t u = 0; u < per; ++u) {
      const float4 v = col[u * out_vec + o];
      s.x += v.x; s.y += v.y; s.z += v.z; s.w += v.w;
    }
    out[o] = s;
  }
}

int main() {
  const size_t ncol = (size_t)C * TAPS * QH * XW, nout = (size_t)C * OH * OW;
  float *col, *o1, *o2, *o3;
  CK(cudaMalloc(&col, ncol * 4)); CK(cudaMalloc(&o1, nout * 4)); CK(cudaMalloc(&o2, nout * 4)); CK(cudaMalloc(&o3, nout * 4));
  float* h = (float*)malloc(ncol * 4);
  for (size_t i = 0; i < ncol; ++i) h[i] = (float)((i * 2654435761u) % 1000) / 1000.f;
  CK(cudaMemcpy(col, h, ncol * 4, cudaMemcpyHostToDevice));
  int sms; CK(cudaDeviceGetAttribute(&sms, cudaDevAttrMultiProcessorCount, 0));
  const int smem = 2 * STAGE_FLOATS * 4;
  CK(cudaFuncSetAttribute(bulk_kernel<256>, cudaFuncAttributeMaxDynamicSharedMemorySize, smem));
  int per_sm = 0;
  CK(cudaOccupancyMaxActiveBlocksPerMultiprocessor(&per_sm, bulk_kernel<256>, 256, smem));
  printf("bulk: %d blocks per SM, %d SMs, stage %d KB\n", per_sm, sms, STAGE_FLOATS * 4 / 1024);
  const int walk_items = C * S * (QH / 4 + 1) * OW;
  for (int rep = 0; rep < 3; ++rep) {
    walk_kernel<<<(walk_items + 255) / 256, 256>>>(col, o1);
    bulk_kernel<256><<<sms * per_sm, 256, smem>>>(col, o2);
    stream_kernel<<<sms * 8, 256>>>((const float4*)col, (float4*)o3, nout / 4);
  }
  CK(cudaDeviceSynchronize());
  float* a = (float*)malloc(nout * 4); float* b = (float*)malloc(nout * 4);
  CK(cudaMemcpy(a, o1, nout * 4, cudaMemcpyDeviceToHost)); CK(cudaMemcpy(b, o2, nout * 4, cudaMemcpyDeviceToHost));
  size_t diff = 0;
  for (size_t i = 0; i < nout; ++i) diff += a[i] != b[i];
  printf("walk vs bulk: %zu of %zu outputs differ (must be 0)\n", diff, nout);
  return diff != 0;
}
