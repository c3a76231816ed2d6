"""Do the backward's two GEMMs of one chunk gain from running side by side?
fcn_up's chunk (one sample): grad_input = W[256 x 4096] @ cols[4096 x 4096] and
grad_weight += x[256 x 4096] @ cols^T, both reading the same columns. Times them
one after the other on one stream and concurrently on two, TF32."""
import torch

from cuda_timing import kernel_times, median_ms  # scripts/ is on sys.path when run as a script

torch.backends.cuda.matmul.allow_tf32 = True
SHAPES = {"fcn_up": (256, 4096, 4096, 4096), "unet_up": (128, 256, 65536, 65536 // 4)}


def main():
    for name, (cin, rows, pixels, _) in SHAPES.items():
        w = torch.randn(cin, rows, device="cuda")
        x = torch.randn(cin, pixels, device="cuda")
        cols = torch.randn(rows, pixels, device="cuda")
        gi = torch.empty(cin, pixels, device="cuda")
        gw = torch.zeros(cin, rows, device="cuda")
        side = torch.cuda.Stream()
        main_stream = torch.cuda.current_stream()

        def grad_input():
            torch.mm(w, cols, out=gi)

        def grad_weight():
            gw.addmm_(x, cols.t())

        def serial():
            grad_input()
            grad_weight()

        def concurrent():
            side.wait_stream(main_stream)
            with torch.cuda.stream(side):
                grad_weight()
            grad_input()
            main_stream.wait_stream(side)

        for label, fn in (("grad_input", grad_input), ("grad_weight", grad_weight),
                          ("serial", serial), ("concurrent", concurrent)):
            ms = median_ms(fn, iters=30, warmup=5)
            print("%-8s %-11s %.3f ms" % (name, label, ms), flush=True)
        for k, t, n in kernel_times(serial, 4):
            print("      %9.1f us %4dx  %s" % (t, n, k))


if __name__ == "__main__":
    main()
