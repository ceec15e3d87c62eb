"""Render a sample digest email to HTML and, with headless Chromium, to a PNG to look at.

Usage: python bench/render_digest.py [--out docs/digest.png] [--html out.html] [--dark]

The sample holds realistic stories plus a hostile headline (it must show as text). ``--dark``
renders with ``prefers-color-scheme: dark`` to check the dark-mode styles. Without Chromium
(Debian: ``apt-get install chromium``) only the HTML is written.
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import tempfile
from datetime import date, datetime, timedelta, timezone
from pathlib import Path
from zoneinfo import ZoneInfo

from briefing.deliver.email.render import RenderedDigest, render_digest
from briefing.models import Actor, Brief
from briefing.digest import DigestContent, DigestItem, DigestSection, score

NOW = datetime(2026, 11, 27, 7, 0, tzinfo=timezone.utc)
CHROMIUM_NAMES = ("chromium", "chromium-browser", "google-chrome")


def _item(n: int, headline: str, summary: list[str], actors: list[Actor], *, topics: list[str], source: str,
          hours_ago: float, sources: int = 1, keywords: tuple[str, ...] = ()) -> DigestItem:
    brief = Brief(headline=headline, summary=summary, actors=actors, engine="extractive", topics=topics,
                  url=f"https://news.example/{n}", published=NOW - timedelta(hours=hours_ago), source=source)
    return DigestItem(n, brief, sources, keywords, hours_ago, score(sources, len(keywords), hours_ago))


def sample_content() -> DigestContent:
    strike = _item(1, "Port Halden dock workers strike over automation plan", [
        "Dock workers at Port Halden walked off the job on Thursday, halting container traffic at the "
        "country's second-largest harbour.",
        "The union says automating three of five terminals would cut at least 1,200 jobs over four years."], [
        Actor("Marta Kessler", "Harbour Workers' Union leader", "vows to strike until the plan is withdrawn", "."),
        Actor("Tomas Reinholt", "Port Halden Authority chief executive",
              "says automation creates technical jobs and the port must modernise", "."),
        Actor("Ingrid Solberg", "Mayor", "urges both sides back to talks before the holidays", ".")],
        topics=["economy"], source="Halden Courier", hours_ago=5, sources=4, keywords=("harbour",))
    flood = _item(2, "River Ems flood defences to be raised by 80 cm after record autumn", [
        "The regional water board approved 62 million euros to raise the dykes along a 14 km stretch.",
        "Work starts in March; farmers on the flood plain asked to be compensated for lost land."], [
        Actor("Water board", "regional authority", "says the old dykes no longer meet the safety standard", "."),
        Actor("Farmers' association", "", "wants compensation for land taken by the works", ".")],
        topics=["environment"], source="Northern Post", hours_ago=9, sources=2)
    budget = _item(3, "Finance minister delays budget vote by a week", [
        "The vote on next year's budget moves to 4 December after coalition partners asked for more time."], [
        Actor("Lena Ode", "Finance minister", "wants the vote next week and no new spending", ".")],
        topics=["politics"], source="Daily Wire", hours_ago=14)
    hostile = _item(4, 'Council <script>alert("x")</script> vote "><img src=x onerror=alert(1)> postponed', [
        "A headline with markup in it must arrive as harmless text."], [],
        topics=["politics"], source="Unknown feed", hours_ago=20)
    bakery = _item(5, "Bakery prices rise for the third month", [
        "Bread costs 9 % more than a year ago, the statistics office said, driven by energy and flour."], [
        Actor("Statistics office", "", "reports a 9 % annual rise in bread prices", ".")],
        topics=["economy"], source="Halden Courier", hours_ago=3)
    sections = (DigestSection("economy", (strike, bakery)), DigestSection("environment", (flood,)),
                DigestSection("politics", (budget, hostile)))
    return DigestContent(digest_date=date(2026, 11, 27), period_start=NOW - timedelta(hours=24), period_end=NOW,
                         sections=sections, omitted=2)


def render_sample() -> RenderedDigest:
    return render_digest(sample_content(), recipient="reader@example.org",
                         unsubscribe_url="https://news.example/unsubscribe?s=1&t=sample",
                         tz=ZoneInfo("Europe/Berlin"))


def find_chromium() -> str | None:
    return next((p for p in map(shutil.which, CHROMIUM_NAMES) if p), None)


def screenshot(html_file: Path, png: Path, *, width: int = 800, height: int = 1400, dark: bool = False,
               timeout: float = 60) -> None:
    """Headless Chromium screenshot of a local HTML file (no network: the email has no remote parts)."""
    chromium = find_chromium()
    if chromium is None:
        raise FileNotFoundError("chromium not found (Debian: apt-get install chromium)")
    with tempfile.TemporaryDirectory() as profile:
        cmd = [chromium, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
               "--disable-background-networking", "--disable-component-update", "--disable-sync",
               "--hide-scrollbars", f"--user-data-dir={profile}", f"--screenshot={png.resolve()}",
               f"--window-size={width},{height}"]
        if dark:
            cmd.append("--force-dark-mode")  # sets prefers-color-scheme: dark, as a dark-mode client would
        subprocess.run([*cmd, html_file.resolve().as_uri()], check=True, timeout=timeout,
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    if not png.exists() or png.stat().st_size == 0:
        raise RuntimeError(f"chromium wrote no screenshot to {png}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=Path("docs/digest.png"))
    parser.add_argument("--html", type=Path, help="also keep the HTML here")
    parser.add_argument("--dark", action="store_true", help="render with prefers-color-scheme: dark")
    parser.add_argument("--width", type=int, default=800)
    parser.add_argument("--height", type=int, default=1400)
    args = parser.parse_args(argv)
    rendered = render_sample()
    html_file = args.html or Path(tempfile.mkdtemp()) / "digest.html"
    html_file.write_text(rendered.html, encoding="utf-8")
    print(f"HTML: {html_file} ({len(rendered.html):,} bytes)")
    if find_chromium() is None:
        print("chromium not found: PNG skipped (Debian: apt-get install chromium)", file=sys.stderr)
        return 1
    args.out.parent.mkdir(parents=True, exist_ok=True)
    screenshot(html_file, args.out, width=args.width, height=args.height, dark=args.dark)
    print(f"PNG: {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
