"""What fuzzing found, replayed through the oracle of the harness that found it.

Each finding is the exact input (configuration byte first, see ``fuzz/README.md``);
a finding no oracle can see (a wrong but well-formed result) gets its own test.
One not fixed yet is marked ``xfail(strict=True)`` with what goes wrong, so the test
fails (XPASS) the day it is fixed and the mark must go. The seed corpora are replayed
too: every oracle must hold on every input written for the project.
"""
from __future__ import annotations

import importlib
import sys
from pathlib import Path
from typing import Callable, NamedTuple, Optional

import pytest

import outside.speedups as speedups
from outside.websocket.deflate import DeflateParameters
from outside.websocket.protocol import TextMessage, WebSocketProtocol

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # the fuzz package lives beside tests/, outside the installed one

CORPUS = ROOT / "fuzz" / "corpus"
TARGETS = {
    "http": ("http_parser_py", "http_parser_c", "http_differential"),
    "websocket": ("ws_frames_py", "ws_frames_c", "ws_differential"),
    "multipart": ("multipart_py",),
}


def oracle(target: str) -> Callable[[bytes], None]:
    """The harness's one-input check; skipped when it needs a compiled twin that is absent."""
    compiled = {"http": speedups.RequestParserC,
                "ws": speedups.WebSocketFramesC and speedups.WebSocketMaskC,
                }.get(target.split("_")[0], True)  # a family without compiled twins needs none
    if not target.endswith("_py") and compiled is None:
        pytest.skip("the compiled twins are not built")
    return importlib.import_module(f"fuzz.{target}").check


class Finding(NamedTuple):
    target: str
    data: bytes
    unfixed: Optional[str] = None  # what is still wrong, while it is


FINDINGS = {
    # A head over max_header_size=64 whose target cannot be valid: C answered 431, the
    # pure parser 400 (as first written); the twins now agree.
    "oversized-head-with-bad-target": Finding(
        "http_differential",
        b"\x05POST " + b"r" * 58 + b"T /@#P-1 rrrr   /" + b"r" * 13 + b"ader'd+pgrade"),
    # A part completed in the same feed as a later error was lost: fed whole, the first
    # part vanished; cut before the bad part, it was kept. Errors now carry their events.
    "multipart-error-drops-earlier-part": Finding(
        "multipart_py",
        b"\x00--boundary\r\nContent-Disposition: form-data; name=\"f\"; filename=\"a.txt\"\r\n"
        b"Content-Type: text/plain\r\n\r\n\r\n--boundar\r\n--boundary\r\n"
        b"Content-Disposition: fohi-data; name=\"b\"\r\n\r\n\r\n--boundary--"),
    # A charset with a NUL in filename*=: codecs.lookup raised ValueError, not MultipartError.
    "multipart-nul-in-charset": Finding(
        "multipart_py",
        b"\x07--AaB03x\r\nContent-Disposition: form-data; name=\"f\"; filename*=UTF-8\x00''caf%C3%A9.txt"
        b"\r\n\r\nz\r\n--AaB03x--"),
}


@pytest.mark.parametrize("name", [
    pytest.param(name, marks=pytest.mark.xfail(strict=True, reason=finding.unfixed))
    if finding.unfixed else name
    for name, finding in FINDINGS.items()
])
def test_finding(name: str) -> None:
    finding = FINDINGS[name]
    oracle(finding.target)(finding.data)


@pytest.mark.parametrize("target,seed", [
    (target, seed.name)
    for family, targets in TARGETS.items() for target in targets
    for seed in sorted((CORPUS / family).iterdir())
])
def test_seed(target: str, seed: str) -> None:
    family = next(family for family, targets in TARGETS.items() if target in targets)
    oracle(target)((CORPUS / family / seed).read_bytes())


# Found while writing the deflate seeds: after a message ending in a BFINAL deflate block,
# every later message of the connection inflated to an empty one.
@pytest.mark.parametrize("frames", ["py", "c"])
def test_deflate_message_after_a_final_block(frames: str) -> None:
    codec = speedups.WebSocketFramesPy if frames == "py" else speedups.WebSocketFramesC
    if codec is None:
        pytest.skip("the compiled twins are not built")
    from fuzz.ws_seeds import SEEDS

    protocol = WebSocketProtocol(deflate=DeflateParameters(), frames=codec)
    assert protocol.receive_data(SEEDS["deflate-bfinal"][1:]) == [TextMessage("one"), TextMessage("two")]
