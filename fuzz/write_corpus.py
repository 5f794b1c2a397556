"""Write the seed corpora from the readable seed modules: ``python -m fuzz.write_corpus``."""
from __future__ import annotations

from pathlib import Path
from typing import Dict

from . import http_seeds, multipart_seeds, ws_seeds

CORPUS = Path(__file__).parent / "corpus"


def write(target: str, seeds: Dict[str, bytes]) -> None:
    """Replace ``corpus/<target>/`` with one file per seed, named after it."""
    folder = CORPUS / target
    folder.mkdir(parents=True, exist_ok=True)
    for old in folder.iterdir():
        old.unlink()
    for name, data in seeds.items():
        (folder / name).write_bytes(data)


if __name__ == "__main__":
    write("http", http_seeds.SEEDS)
    write("websocket", ws_seeds.SEEDS)
    write("multipart", multipart_seeds.SEEDS)
