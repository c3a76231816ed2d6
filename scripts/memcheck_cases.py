"""A representative subset of the CUDA path for compute-sanitizer: every dtype,
chunked and unchunked, strided/dilated/grouped, 1x1 direct GEMM, channels_last,
small enough to run under memcheck; forward and backward (grad_input,
grad_weight, grad_bias). Checks results too; exits non-zero on error."""
import os
import sys

import torch
import torch.nn.functional as F

import gemm_convt

CASES = [  # N, Cin, Cout/g, kernel, HxW, stride, padding, output_padding, dilation, groups
    (2, 4, 3, (3, 3), (7, 9), 1, 0, 0, 1, 1),
    (2, 6, 2, (3, 5), (5, 6), (2, 3), (1, 2), (1, 2), 1, 2),
    (3, 8, 1, (3, 3), (6, 5), (1, 2), (1, 0), (0, 1), (2, 1), 8),
    (2, 3, 5, (1, 1), (4, 7), 1, 0, 0, 1, 1),
    (2, 2, 3, (2, 3), (1, 9), (4, 5), (0, 1), (3, 0), 1, 1),
    (3, 4, 3, (2, 2), (5, 6), 2, 3, 1, 1, 1),  # edge input rows reach no output
    (5, 8, 4, (4, 4), (2, 3), 2, 1, 0, 1, 2),  # several small samples per chunk
    (2, 32, 20, (3, 3), (5, 6), 1, 0, 0, 1, 1),  # direct gather: 16 channels per thread, a partial tile
    (2, 20, 40, (3, 7), (3, 140), 1, (1, 3), 0, 1, 1),  # implicit GEMM: two position tiles, channel chunks
    (5, 40, 70, (4, 4), (5, 6), 2, 1, (1, 0), 1, 1),  # implicit GEMM bands across samples, two channel tiles
    (3, 70, 66, (2, 3), (24, 40), 1, (1, 0), 0, 1, 1),  # implicit grad_weight: partial tiles, two slices
    (2, 20, 40, (2, 2), (8, 16), 2, 0, 0, 1, 1),  # disjoint taps, gap-free cells, 16-byte copies, K tail
    (2, 16, 20, (3, 3), (8, 8), 5, 1, 0, 2, 1),  # disjoint taps with gaps (#81-like), two column tiles
    (2, 4, 3, (4, 4), (6, 15), 2, 1, 1, 1, 1),  # folded: col2im blocks, 31-wide rows (a partial block)
    (2, 40, 5, (2, 9), (4, 16), (1, 2), (0, 3), 0, (1, 7), 1),  # folded: unfold's 16-byte loads, spread ~30
    (2, 36, 5, (1, 65), (4, 16), 1, (0, 32), 0, 1, 1),  # folded: the largest shift spread (64)
    (2, 24, 72, (3, 3), (5, 131), 1, (1, 2), 0, 1, 1),  # implicit GEMM on wgmma (sm_90a, float32): partial tiles
    (2, 24, 20, (2, 2), (12, 28), 2, 0, 0, 1, 2),  # disjoint taps on wgmma (sm_90a, float32): groups, 3 pixel tiles
    (2, 16, 64, (3, 3), (6, 70), 1, (2, 1), (1, 0), (2, 1), 1),  # implicit wgmma: a tile over 3 short rows, padded rows
    (2, 16, 64, (3, 5), (4, 80), 1, (1, 2), 0, 1, 1),  # implicit wgmma, split: 256 positions a block (4 warpgroups)
    (2, 32, 64, (4, 4), (6, 40), 2, 1, 0, 1, 1),  # implicit wgmma by output phase (stride 2: the four as one call)
    (1, 32, 48, (4, 6), (9, 44), (2, 3), (1, 2), (1, 1), 1, 2),  # six phases as one wgmma call: 10 or 9 rows, starts
                                                                 # a row and a column apart
    (2, 8, 40, (3, 3), (20, 40), 5, 1, 4, 2, 1),  # the gather's row form: 2 column spans, 3 row runs, 2 channel tiles
]

# (workspace limit, direct gather, implicit GEMM, width folding, disjoint taps, TF32): GEMM +
# col2im unchunked and chunked, then each direct path (the implicit GEMM also with its wgmma
# input packed in row bands), the width folded by phase in chunks, the disjoint-taps kernel
# wherever it applies, and the implicit GEMM with TF32 allowed (float32 takes the wgmma
# kernels' TF32 instantiations there; split elsewhere)
CONFIGS = ((None, False, False, None, False, False), (500, False, False, None, False, False),
           (4000, False, False, None, False, False), (None, True, False, None, False, False),
           (None, False, True, None, False, False), (250000, False, True, None, False, False),
           (4000, False, False, True, False, False), (None, False, False, None, True, False),
           (None, False, True, None, False, True))


# Under a workspace of a few KB every few pixels make a chunk, and each chunk a few launches,
# which memcheck slows most: those configs take the cases of at most this many input pixels
# (configs 1 and 6 ran out of 330 s over the wide cases, session 31), and run as a process
# per case (session 39: 11-83 s each, 14 at a time; one process per config was cut at 110 s
# in every whole check from session 28 to 38).
TINY_WORKSPACE, TINY_WORKSPACE_MAX_PIXELS = 4000, 256


def tiny(limit):
    return limit is not None and limit <= TINY_WORKSPACE


def runs_under(limit, case):
    """Whether a config with this workspace limit takes the case."""
    n, hw = case[0], case[4]
    return not tiny(limit) or n * hw[0] * hw[1] <= TINY_WORKSPACE_MAX_PIXELS


def jobs():
    """gpu_check.sh's memcheck processes, a line each: a config, or a config and one case."""
    for i, config in enumerate(CONFIGS):
        if not tiny(config[0]):
            yield "%d" % i
            continue
        for j, case in enumerate(CASES):
            if runs_under(config[0], case):
                yield "%d %d" % (i, j)


def picked(items, variable):
    """The items whose indices the environment variable lists (e.g. "13,14,15"), or all."""
    indices = os.environ.get(variable)
    return [items[int(i)] for i in indices.split(",")] if indices else items


def main():
    torch.manual_seed(0)
    worst, cases = 0.0, 0
    configs = picked(CONFIGS, "MEMCHECK_CONFIGS")
    cases_picked = picked(CASES, "MEMCHECK_CASES")
    for limit, direct, implicit, fold, disjoint, tf32 in configs:
        gemm_convt.set_allow_tf32(tf32)
        gemm_convt.set_workspace_limit(limit)
        gemm_convt.set_direct_gather(direct)
        gemm_convt.set_implicit_gemm(implicit)
        gemm_convt.set_width_folding(fold)
        gemm_convt.set_disjoint_taps(disjoint)
        for dtype in (torch.float32, torch.float16, torch.bfloat16, torch.float64):
            for case in cases_picked:
                if not runs_under(limit, case):
                    continue
                n, cin, cout_g, k, hw, s, p, op, d, g = case
                for fmt in (torch.contiguous_format, torch.channels_last):
                    x = torch.randn(n, cin, *hw).to("cuda", dtype).contiguous(memory_format=fmt)
                    w = torch.randn(cin, cout_g, *k).to("cuda", dtype)
                    b = torch.randn(cout_g * g).to("cuda", dtype)
                    kw = dict(stride=s, padding=p, output_padding=op, dilation=d, groups=g)
                    leaves = [t.requires_grad_(True) for t in (x, w, b)]
                    out = gemm_convt.conv_transpose2d(x, w, b, **kw)
                    gy = torch.randn(out.shape).to("cuda", dtype).contiguous(memory_format=fmt)
                    grads = torch.autograd.grad(out, leaves, gy)
                    refs64 = [t.detach().double().requires_grad_(True) for t in leaves]
                    ref = F.conv_transpose2d(*refs64, **kw)
                    ref_grads = torch.autograd.grad(ref, refs64, gy.double())
                    for got, want in zip((out,) + grads, (ref,) + ref_grads):
                        rel = ((got.double() - want).norm() / want.norm()).item()
                        worst = max(worst, rel)
                        assert rel < 2e-2, (dtype, kw, rel)
                    cases += 1
    torch.cuda.synchronize()
    print("memcheck subset: %d cases (forward + backward) ok, worst rel err %.2e" % (cases, worst))


if __name__ == "__main__":
    if sys.argv[1:] == ["--jobs"]:
        print("\n".join(jobs()))
    else:
        main()
