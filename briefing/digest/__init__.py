"""The daily digest, channel-neutral: what goes in it (:mod:`~briefing.digest.compose`), when it is
due (:mod:`~briefing.digest.schedule`), how it reads before markup (:mod:`~briefing.digest.view`),
and the job that records, claims and hands each one to a channel (:mod:`~briefing.digest.job`).

Each channel provides its adapter (:class:`DigestChannel`) and its rendering; the service wires
them together (:mod:`briefing.service.digests`).
"""

from briefing.digest.compose import (
    FIRST_DIGEST_HOURS,
    OTHER_TOPIC,
    CandidatePool,
    DigestContent,
    DigestItem,
    DigestSection,
    compose,
    rank,
    score,
)
from briefing.digest.job import (
    DigestChannel,
    DigestJob,
    DigestReport,
    NotSubscribed,
    find_subscriber,
    preview_content,
    run_digests,
)
from briefing.digest.schedule import digest_time_text, latest_slot, parse_digest_time, scheduled_at, zone
from briefing.digest.view import numbered, safe_url, section_label, story_view, subject_for

__all__ = [
    "FIRST_DIGEST_HOURS", "OTHER_TOPIC", "CandidatePool", "DigestChannel", "DigestContent", "DigestItem",
    "DigestJob", "DigestReport", "DigestSection", "NotSubscribed", "compose", "digest_time_text",
    "find_subscriber", "latest_slot", "numbered", "parse_digest_time", "preview_content", "rank",
    "run_digests", "safe_url", "scheduled_at", "score", "section_label", "story_view", "subject_for", "zone",
]
