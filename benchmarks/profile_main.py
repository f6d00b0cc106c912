"""`python benchmarks/profile_main.py OUT ARGS...`: the suite's main() (policies.cli) under
cProfile, the profile written to OUT. The console script ends the process as soon as pytest
returns, so `-m cProfile -m policies.cli` would write nothing."""

import cProfile
import sys

from policies.cli import main

if __name__ == "__main__":
    out, *args = sys.argv[1:]
    profiler = cProfile.Profile()
    code = profiler.runcall(main, args)
    profiler.dump_stats(out)
    sys.exit(code)
