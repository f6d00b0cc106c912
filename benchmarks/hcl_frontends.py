"""HCL front ends side by side (not a test: nothing asserted). Parses infra/'s .tf files x20 and
a synthetic tree of N .tf files once, with tree-sitter-hcl and with python-hcl2, each in a fresh
interpreter (import of the parser included), and prints a markdown table.

    .venv/bin/python benchmarks/hcl_frontends.py [--files 1000] [--repeat 20]
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from synthetic import ROOT, generate  # noqa: E402

FRONTENDS = ("tree-sitter", "python-hcl2")


def measure(frontend: str, tree: Path, repeat: int) -> dict[str, float | int]:
    """In this interpreter: import the front end, parse every .tf file of `tree` `repeat`
    times; seconds for the import and for the parses, and the files python-hcl2 settled."""
    texts = [p.read_text() for p in sorted(tree.rglob("*.tf"))]
    started = time.perf_counter()
    sys.path.insert(0, str(ROOT))
    from policies.hcl_ts import Frontend

    parser = Frontend(frontend)
    if frontend == "python-hcl2":
        import hcl2  # what the first parse would import

        hcl2.loads("a = 1\n")
    imported = time.perf_counter()
    for _ in range(repeat):
        for text in texts:
            parser.loads(text)
    done = time.perf_counter()
    return {
        "files": len(texts),
        "import": imported - started,
        "parse": done - imported,
        "fallbacks": sum(parser.fallbacks.values()),
    }


def fresh(frontend: str, tree: Path, repeat: int) -> dict[str, float | int]:
    """`measure` in a new interpreter."""
    command = [sys.executable, __file__, "--measure", frontend, str(tree), str(repeat)]
    done = subprocess.run(command, capture_output=True, text=True, check=True)
    return json.loads(done.stdout)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--files", type=int, default=1000, help="synthetic tree size")
    parser.add_argument("--repeat", type=int, default=20, help="passes over infra/")
    parser.add_argument("--measure", nargs=3, metavar=("FRONTEND", "TREE", "REPEAT"))
    args = parser.parse_args()
    if args.measure:
        frontend, tree, repeat = args.measure
        print(json.dumps(measure(frontend, Path(tree), int(repeat))))
        return
    with tempfile.TemporaryDirectory() as tmp:
        synthetic = Path(tmp) / "synthetic"
        generate(synthetic, args.files)
        runs = [
            (f"infra/ .tf x{args.repeat}", ROOT / "infra", args.repeat),
            (f"synthetic {args.files} .tf x1", synthetic, 1),
        ]
        print("| input | front end | files parsed | import s | parse s | per file ms | ratio |")
        print("|---|---|---|---|---|---|---|")
        for name, tree, repeat in runs:
            results = {frontend: fresh(frontend, tree, repeat) for frontend in FRONTENDS}
            reference = results["python-hcl2"]["parse"]
            for frontend, result in results.items():
                parses = result["files"] * repeat
                per_file = 1000 * result["parse"] / parses
                settled = f" ({result['fallbacks']} by python-hcl2)" if result["fallbacks"] else ""
                print(
                    f"| {name} | {frontend} | {parses}{settled} | {result['import']:.3f} |"
                    f" {result['parse']:.3f} | {per_file:.2f} |"
                    f" {result['parse'] / reference:.3f} |"
                )


if __name__ == "__main__":
    main()
