"""Build the rotation functions' Lambda package, byte for byte reproducibly.

Writes infra/terraform/modules/secrets/secret-rotation.zip with the handler modules of
this directory at the archive root (not this script): entries sorted by name, each dated
1980-01-01 00:00:00 with mode 0644, deflated. Same sources, same bytes, so the function's
source_code_hash changes only when a handler does.

Usage: python infra/services/secret-rotation/build.py [OUTPUT]
"""

from __future__ import annotations

import sys
import zipfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
DEFAULT_OUTPUT = HERE.parents[1] / "terraform" / "modules" / "secrets" / "secret-rotation.zip"
FIXED_DATE = (1980, 1, 1, 0, 0, 0)
FILE_MODE = 0o100644  # regular file, rw-r--r--


def modules() -> list[Path]:
    """The Python modules that go into the package, sorted by name."""
    return sorted(
        (path for path in HERE.glob("*.py") if path.name != Path(__file__).name),
        key=lambda path: path.name,
    )


def build(output: Path = DEFAULT_OUTPUT) -> Path:
    """Write the package to output and return its path."""
    output.parent.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(output, "w") as archive:
        for path in modules():
            info = zipfile.ZipInfo(path.name, date_time=FIXED_DATE)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.create_system = 3  # Unix, so external_attr carries the mode
            info.external_attr = FILE_MODE << 16
            archive.writestr(info, path.read_bytes(), compresslevel=9)
    return output


def main(argv: list[str]) -> int:
    output = Path(argv[1]).resolve() if len(argv) > 1 else DEFAULT_OUTPUT
    built = build(output)
    names = ", ".join(path.name for path in modules())
    print(f"wrote {built} ({built.stat().st_size} bytes): {names}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
