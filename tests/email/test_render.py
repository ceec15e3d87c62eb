"""The HTML digest renders in a real browser (headless Chromium), light and dark, with nothing remote."""

from __future__ import annotations

import importlib.util
import struct
import zlib
from pathlib import Path
from types import ModuleType

import pytest

from tests.conftest import REPO


def _bench() -> ModuleType:
    spec = importlib.util.spec_from_file_location("render_digest", REPO / "bench" / "render_digest.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _png_pixels(path: Path) -> tuple[int, int, list[bytes]]:
    """Width, height and a grid sample of the RGB pixels of an 8-bit RGB(A) PNG (stdlib only)."""
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    pos, idat, header = 8, b"", b""
    while pos < len(data):
        length, kind = struct.unpack(">I4s", data[pos:pos + 8])
        chunk = data[pos + 8:pos + 8 + length]
        header = chunk if kind == b"IHDR" else header
        idat += chunk if kind == b"IDAT" else b""
        pos += 12 + length
    width, height, depth, colour = struct.unpack(">IIBB", header[:10])
    assert depth == 8 and colour in (2, 6)
    bpp = 3 if colour == 2 else 4
    raw, stride, prev = zlib.decompress(idat), width * bpp, bytearray(width * bpp)
    sample: list[bytes] = []
    for y in range(height):
        kind, line = raw[y * (stride + 1)], bytearray(raw[y * (stride + 1) + 1:(y + 1) * (stride + 1)])
        for i in range(stride):  # undo the PNG row filters
            a = line[i - bpp] if i >= bpp else 0
            b, c = prev[i], prev[i - bpp] if i >= bpp else 0
            if kind == 1:
                line[i] = (line[i] + a) & 0xFF
            elif kind == 2:
                line[i] = (line[i] + b) & 0xFF
            elif kind == 3:
                line[i] = (line[i] + (a + b) // 2) & 0xFF
            elif kind == 4:
                p = a + b - c
                pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
                line[i] = (line[i] + (a if pa <= pb and pa <= pc else b if pb <= pc else c)) & 0xFF
        if y % 10 == 0:
            sample.extend(bytes(line[x:x + 3]) for x in range(0, stride, bpp * 4))
        prev = line
    return width, height, sample


def _luma(rgb: bytes) -> float:
    return 0.299 * rgb[0] + 0.587 * rgb[1] + 0.114 * rgb[2]


@pytest.mark.parametrize("dark", [False, True], ids=["light", "dark"])
def test_digest_renders_in_chromium(tmp_path: Path, dark: bool) -> None:
    bench = _bench()
    if bench.find_chromium() is None:
        pytest.skip("chromium is not installed (Debian: apt-get install chromium); the render check needs it")
    html = tmp_path / "digest.html"
    html.write_text(bench.render_sample().html, encoding="utf-8")
    png = tmp_path / "digest.png"

    bench.screenshot(html, png, width=600, height=900, dark=dark)

    width, height, sample = _png_pixels(png)
    assert (width, height) == (600, 900)
    assert len(set(sample)) > 20  # text and colours, not a blank page
    lumas = sorted(_luma(c) for c in sample)
    median = lumas[len(lumas) // 2]
    if dark:  # a dark page with light text: the dark-mode styles apply
        assert median < 80 and lumas[-1] > 200, (median, lumas[-1])
    else:  # a light page with dark text
        assert median > 200 and lumas[0] < 80, (median, lumas[0])
