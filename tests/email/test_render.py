"""The HTML digest renders in a real browser (headless Chromium), light and dark, with nothing remote."""

from __future__ import annotations

import importlib.util
import os
import struct
import zlib
from pathlib import Path
from types import ModuleType

import pytest

from tests.support.config import REPO


def _bench() -> ModuleType:
    spec = importlib.util.spec_from_file_location("render_digest", REPO / "bench" / "render_digest.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _png_rows(path: Path) -> list[bytes]:
    """Every row of an 8-bit RGB(A) PNG as RGB bytes (stdlib only)."""
    rows: list[bytes] = []
    _png_pixels(path, rows)
    return rows


def _png_pixels(path: Path, rows: list[bytes] | None = None) -> tuple[int, int, list[bytes]]:
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
        if rows is not None:
            rows.append(b"".join(bytes(line[x:x + 3]) for x in range(0, stride, bpp)))
        prev = line
    return width, height, sample


def _luma(rgb: bytes) -> float:
    return 0.299 * rgb[0] + 0.587 * rgb[1] + 0.114 * rgb[2]


def _chromium_or_skip(bench: ModuleType) -> None:
    if bench.find_chromium() is None:
        if os.environ.get("CI"):  # .ci/run installs it: in CI the browser check never silently skips
            pytest.fail("chromium is not installed in CI; .ci/run should have installed it")
        pytest.skip("chromium is not installed (Debian: apt-get install chromium); the render check needs it")


def _ink(rows: list[bytes]) -> list[bool]:
    """Per row: does it hold anything but the page background (text, rules, boxes)?"""
    background = rows[0][:3]
    return [row != background * (len(row) // 3) for row in rows]


@pytest.mark.parametrize(("dark", "reference"), [(False, "digest.png"), (True, "digest-dark.png")],
                         ids=["light", "dark"])
def test_digest_layout_matches_the_reference_screenshot(tmp_path: Path, dark: bool, reference: str) -> None:
    """The rendered digest has the layout of docs/digest*.png: the same rows of text, boxes and gaps.

    Compared row by row on where there is ink, not pixel by pixel, so a different font hinting
    passes while a template change that moves, drops or adds a block fails (re-render the
    references with `python bench/render_digest.py` when the change is meant).
    """
    bench = _bench()
    _chromium_or_skip(bench)
    ref = REPO / "docs" / reference
    ref_rows = _png_rows(ref)
    html = tmp_path / "digest.html"
    html.write_text(bench.render_sample().html, encoding="utf-8")
    png = tmp_path / "digest.png"
    bench.screenshot(html, png, width=len(ref_rows[0]) // 3, height=len(ref_rows), dark=dark)
    rows = _png_rows(png)
    assert len(rows) == len(ref_rows)
    ink, ref_ink = _ink(rows), _ink(ref_rows)
    agree = sum(a == b for a, b in zip(ink, ref_ink)) / len(ink)
    assert agree >= 0.9, f"layout differs from docs/{reference}: {agree:.0%} of rows agree"
    last, ref_last = max(i for i, v in enumerate(ink) if v), max(i for i, v in enumerate(ref_ink) if v)
    assert abs(last - ref_last) <= 0.05 * len(rows), (last, ref_last)


@pytest.mark.parametrize("dark", [False, True], ids=["light", "dark"])
def test_digest_renders_in_chromium(tmp_path: Path, dark: bool) -> None:
    bench = _bench()
    _chromium_or_skip(bench)
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
