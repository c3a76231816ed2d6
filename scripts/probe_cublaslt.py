"""Probe: how fast do cublasLt's heuristic candidates run a columns GEMM?

cuBLAS's default picks a cutlass_80 kernel (~95 TFLOP/s TF32) for fcn_up's forward
columns GEMM (K = Cin = 256), while GEMMs of the same size in the backward get sm90
kernels at 230-380 TFLOP/s (NOTES.md, session 3 and 7). This asks cublasLt for its
top candidates for the same call and times each beside torch.mm's choice, so a change
to the library is made only if a candidate is much faster.

The call is ours: column-major C (m x n) = op(A) (m x k) . op(B) (k x n); "nn" is the
forward's side-by-side layout (A = the input's pixels x channels, B = the weight's
K-major rows). cublasLt is reached through ctypes (the library torch has loaded), so
nothing is compiled.

    python scripts/probe_cublaslt.py [--shapes 4096x4096x256,16384x4096x256] [--ops nn,nt]
        [--ieee] [--candidates 16] [--iters 30]
"""
import argparse
import ctypes
import time

import torch

from cuda_timing import median_ms  # scripts/ is on sys.path when run as a script

COMPUTE_32F, COMPUTE_32F_FAST_TF32, R_32F = 68, 77, 0  # cublas_api.h, library_types.h
DESC_TRANSA, DESC_TRANSB, PREF_MAX_WORKSPACE = 3, 4, 1  # cublasLt.h
CONFIG = {"id": 0, "tile": 1, "splitk": 2, "stages": 6}  # cublasLtMatmulAlgoConfigAttributes_t
WORKSPACE = 32 << 20  # --workspace-mib changes it


class Algo(ctypes.Structure):
    _fields_ = [("data", ctypes.c_uint64 * 8)]


class Heuristic(ctypes.Structure):
    _fields_ = [("algo", Algo), ("workspace_size", ctypes.c_size_t), ("state", ctypes.c_int),
                ("waves", ctypes.c_float), ("reserved", ctypes.c_int * 4)]


def load_cublaslt(stem="libcublasLt.so"):
    torch.mm(torch.ones(8, 8, device="cuda"), torch.ones(8, 8, device="cuda"))
    with open("/proc/self/maps") as maps:
        for line in maps:
            if stem in line:
                return ctypes.CDLL(line.split()[-1])
    for name in (stem + ".13", stem + ".12", stem):
        try:
            return ctypes.CDLL(name)
        except OSError:
            pass
    raise SystemExit("libcublasLt is not loaded and not found")


def check(status, what):
    if status != 0:
        raise RuntimeError("%s: cublasStatus %d" % (what, status))


def operands(m, n, k, ta, tb):
    """Row-major storage of column-major A, B, C, and op(A), op(B) as torch matrices."""
    a = torch.randn((m, k) if ta else (k, m), device="cuda")
    b = torch.randn((k, n) if tb else (n, k), device="cuda")
    c = torch.empty(n, m, device="cuda")
    op_a = a if ta else a.t()
    op_b = b if tb else b.t()
    return a, b, c, op_a, op_b


def host_us(fn, calls=100):
    """Host time per call with the calls enqueued back to back (the GPU lags behind)."""
    fn()
    torch.cuda.synchronize()
    start = time.perf_counter()
    for _ in range(calls):
        fn()
    host = time.perf_counter() - start
    torch.cuda.synchronize()
    return 1e6 * host / calls


def probe(lt, handle, m, n, k, ops, tf32, candidates, iters, blas=None):
    ta, tb = ops[0] == "t", ops[1] == "t"
    a, b, c, op_a, op_b = operands(m, n, k, ta, tb)
    reference = (op_a.double() @ op_b.double()).t()
    workspace = torch.empty(max(WORKSPACE, 1), dtype=torch.uint8, device="cuda")
    flops = 2.0 * m * n * k

    desc = ctypes.c_void_p()
    check(lt.cublasLtMatmulDescCreate(ctypes.byref(desc), ctypes.c_int(COMPUTE_32F_FAST_TF32 if tf32 else COMPUTE_32F),
                                      ctypes.c_int(R_32F)), "MatmulDescCreate")
    for attr, flag in ((DESC_TRANSA, ta), (DESC_TRANSB, tb)):
        value = ctypes.c_int(int(flag))
        check(lt.cublasLtMatmulDescSetAttribute(desc, ctypes.c_int(attr), ctypes.byref(value), ctypes.c_size_t(4)),
              "MatmulDescSetAttribute")
    layouts = []
    for rows, cols in (((k, m) if ta else (m, k)), ((n, k) if tb else (k, n)), (m, n)):
        layout = ctypes.c_void_p()
        check(lt.cublasLtMatrixLayoutCreate(ctypes.byref(layout), ctypes.c_int(R_32F), ctypes.c_uint64(rows),
                                            ctypes.c_uint64(cols), ctypes.c_int64(rows)), "MatrixLayoutCreate")
        layouts.append(layout)
    a_desc, b_desc, c_desc = layouts
    pref = ctypes.c_void_p()
    check(lt.cublasLtMatmulPreferenceCreate(ctypes.byref(pref)), "MatmulPreferenceCreate")
    limit = ctypes.c_uint64(WORKSPACE)
    check(lt.cublasLtMatmulPreferenceSetAttribute(pref, ctypes.c_int(PREF_MAX_WORKSPACE), ctypes.byref(limit),
                                                  ctypes.c_size_t(8)), "MatmulPreferenceSetAttribute")
    results = (Heuristic * candidates)()
    found = ctypes.c_int()
    check(lt.cublasLtMatmulAlgoGetHeuristic(handle, desc, a_desc, b_desc, c_desc, c_desc, pref,
                                            ctypes.c_int(candidates), results, ctypes.byref(found)),
          "MatmulAlgoGetHeuristic")

    torch.backends.cuda.matmul.allow_tf32 = tf32
    label = "%s m=%d n=%d k=%d %s" % (ops, m, n, k, "tf32" if tf32 else "ieee")
    ms = median_ms(lambda: torch.mm(op_b.t(), op_a.t(), out=c), iters)
    print("%-36s torch.mm            %8.3f ms %6.1f TFLOP/s" % (label, ms, flops / ms / 1e9))
    alpha, beta = ctypes.c_float(1.0), ctypes.c_float(0.0)
    stream = ctypes.c_void_p(torch.cuda.current_stream().cuda_stream)
    if blas is not None:  # what our library calls today: cublasGemmStridedBatchedEx, batch 1
        blas_handle, ex = blas
        check(ex.cublasSetStream_v2(blas_handle, stream), "cublasSetStream")
        check(ex.cublasSetMathMode(blas_handle, ctypes.c_int(3 if tf32 else 0)), "cublasSetMathMode")
        lda, ldb = (k if ta else m), (n if tb else k)

        def gemm_ex():
            check(ex.cublasGemmStridedBatchedEx(
                blas_handle, ctypes.c_int(int(ta)), ctypes.c_int(int(tb)), ctypes.c_int(m), ctypes.c_int(n),
                ctypes.c_int(k), ctypes.byref(alpha), ctypes.c_void_p(a.data_ptr()), ctypes.c_int(R_32F),
                ctypes.c_int(lda), ctypes.c_longlong(0), ctypes.c_void_p(b.data_ptr()), ctypes.c_int(R_32F),
                ctypes.c_int(ldb), ctypes.c_longlong(0), ctypes.byref(beta), ctypes.c_void_p(c.data_ptr()),
                ctypes.c_int(R_32F), ctypes.c_int(m), ctypes.c_longlong(0), ctypes.c_int(1),
                ctypes.c_int(COMPUTE_32F_FAST_TF32 if tf32 else COMPUTE_32F), ctypes.c_int(-1)),
                "cublasGemmStridedBatchedEx")

        print("%-36s GemmStridedBatchedEx %7.3f ms, host %5.1f us per call" % (
            label, median_ms(gemm_ex, iters), host_us(gemm_ex)))
    for i in range(found.value):
        if results[i].state != 0:
            continue
        config = {}
        for name, attr in CONFIG.items():
            value, written = ctypes.c_uint32(), ctypes.c_size_t()
            lt.cublasLtMatmulAlgoConfigGetAttribute(ctypes.byref(results[i].algo), ctypes.c_int(attr),
                                                    ctypes.byref(value), ctypes.c_size_t(4), ctypes.byref(written))
            config[name] = value.value

        def run(i=i):
            check(lt.cublasLtMatmul(handle, desc, ctypes.byref(alpha), ctypes.c_void_p(a.data_ptr()), a_desc,
                                    ctypes.c_void_p(b.data_ptr()), b_desc, ctypes.byref(beta),
                                    ctypes.c_void_p(c.data_ptr()), c_desc, ctypes.c_void_p(c.data_ptr()), c_desc,
                                    ctypes.byref(results[i].algo), ctypes.c_void_p(workspace.data_ptr()),
                                    ctypes.c_size_t(WORKSPACE), stream), "Matmul")

        try:
            ms = median_ms(run, iters)
        except RuntimeError as error:
            print("%-36s candidate %2d %s" % (label, i, error))
            continue
        if blas is not None and i == 0:
            print("%-36s cublasLtMatmul, algo cached: host %5.1f us per call" % (label, host_us(run)))
        err = ((c.double() - reference).norm() / reference.norm()).item()
        print("%-36s candidate %2d %8.3f ms %6.1f TFLOP/s  rel err %.1e  algo %d tile %d splitK %d "
              "stages %d waves %.2f ws %d" % (label, i, ms, flops / ms / 1e9, err, config["id"], config["tile"],
                                        config["splitk"], config["stages"], results[i].waves,
                                        results[i].workspace_size))
    for layout in layouts:
        lt.cublasLtMatrixLayoutDestroy(layout)
    lt.cublasLtMatmulPreferenceDestroy(pref)
    lt.cublasLtMatmulDescDestroy(desc)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    # fcn_up's forward: K = Cin = 256, n = Cout * taps = 4096, m = a chunk's pixels;
    # dcgan's: K = 512, n = 4096, m = 128 samples x 64 pixels.
    ap.add_argument("--shapes", default="4096x4096x256,16384x4096x256,65536x4096x256,8192x4096x512",
                    help="m x n x k, comma-separated")
    ap.add_argument("--ops", default="nn,nt", help="op(A) op(B) pairs, comma-separated")
    ap.add_argument("--ieee", action="store_true", help="float32 compute instead of TF32")
    ap.add_argument("--candidates", type=int, default=16)
    ap.add_argument("--iters", type=int, default=30)
    ap.add_argument("--workspace-mib", type=int, default=32, help="the heuristic's workspace limit (0: none)")
    ap.add_argument("--host", action="store_true",
                    help="also time cublasGemmStridedBatchedEx and the host time per call of it and of "
                         "cublasLtMatmul with candidate 0 cached")
    args = ap.parse_args()
    global WORKSPACE
    WORKSPACE = args.workspace_mib << 20
    lt = load_cublaslt()
    handle = ctypes.c_void_p()
    check(lt.cublasLtCreate(ctypes.byref(handle)), "cublasLtCreate")
    print("torch", torch.__version__, torch.cuda.get_device_name())
    blas = None
    if args.host:
        ex = load_cublaslt("libcublas.so")
        blas_handle = ctypes.c_void_p()
        check(ex.cublasCreate_v2(ctypes.byref(blas_handle)), "cublasCreate")
        blas = (blas_handle, ex)
    for shape in args.shapes.split(","):
        m, n, k = (int(v) for v in shape.split("x"))
        for ops in args.ops.split(","):
            probe(lt, handle, m, n, k, ops, not args.ieee, args.candidates, args.iters, blas)
    lt.cublasLtDestroy(handle)


if __name__ == "__main__":
    main()
