"""The benchmark behind `python -m gemm_convt.bench`, in small parts:
problems (shapes and their costs), ceilings (measured rates), variants (the
paths compared), run / model_run (measurement), report (table, JSON, CSV,
plot), progress and cli."""
