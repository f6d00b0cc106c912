"""A synthetic platform tree: N copies of infra's Terraform modules (valid HCL, distinct names)."""

from __future__ import annotations

import re
import shutil
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def generate(target: Path, files: int) -> int:
    """Copy infra/terraform/modules until `files` .tf files exist; resource names get a suffix
    per copy so the tree has no duplicate addresses. Returns the number of .tf files written."""
    modules = sorted((ROOT / "infra" / "terraform" / "modules").rglob("*.tf"))
    if target.exists():
        shutil.rmtree(target)
    written, copy = 0, 0
    while written < files:
        for source in modules:
            if written >= files:
                break
            text = re.sub(
                r'^(resource|data) "([^"]+)" "([^"]+)"',
                rf'\1 "\2" "\3_{copy}"',
                source.read_text(),
                flags=re.M,
            )
            dest = target / f"copy{copy:04d}" / source.relative_to(ROOT / "infra" / "terraform")
            dest.parent.mkdir(parents=True, exist_ok=True)
            dest.write_text(text)
            for extra in source.parent.glob("*.zip"):
                shutil.copy(extra, dest.parent / extra.name)
            written += 1
        copy += 1
    return written


if __name__ == "__main__":
    print(generate(Path(sys.argv[1]), int(sys.argv[2])))
