"""``summariser.engine: openai`` against a real HTTP server on 127.0.0.1 speaking ``/v1/chat/completions``.

The server's answers are scripted (no model runs here); the engine, its retries, time limits and
concurrency, the prompts and the claim guard are the real code.
"""

from __future__ import annotations

import json
import logging
import threading
import time
from collections.abc import Callable, Iterator

import pytest

from briefing.config import SummariserConfig
from briefing.errors import (Action, ConfigError, ModelUnavailableError, SummariserRejected,
                             SummariserUnavailable, classify)
from briefing.summarise import build_engine
from briefing.summarise.base import Document
from briefing.summarise.openai_engine import OpenAIEngine
from tests.support.http import LocalHTTPServer, Request, Response

FAITHFUL = ("Vladimir Putin warned against foreign interference in Belarus after protests against "
            "Lukashenko's re-election.")
INVENTED = "Over 300,000 people protested against Lukashenko's re-election in Belarus."
CORRECTED = "More than 200,000 people protested against Lukashenko's re-election in Belarus."


def completion(content: str) -> Response:
    body = {"id": "x", "object": "chat.completion", "model": "m",
            "choices": [{"index": 0, "message": {"role": "assistant", "content": content}, "finish_reason": "stop"}],
            "usage": {"prompt_tokens": 100, "completion_tokens": 20}}
    return Response(json.dumps(body), headers={"Content-Type": "application/json"})


def gist_answer(gist: str) -> Response:
    # A chatty server: a preamble line, the sentence in quotes, a second sentence the grammar would forbid.
    return completion(f'Here is the summary:\n"{gist}" I hope this helps.')


def prompt_of(req: Request) -> str:
    return json.loads(req.body)["messages"][0]["content"]


def is_position(req: Request) -> bool:
    return "according to this sentence alone" in prompt_of(req)  # prompts/position.txt


@pytest.fixture()
def server() -> Iterator[LocalHTTPServer]:
    srv = LocalHTTPServer().start()
    srv.route("/v1/models", Response('{"object": "list", "data": [{"id": "m"}]}'))
    yield srv
    srv.stop()


def chats(server: LocalHTTPServer) -> list[Request]:
    return [r for r in server.requests if r.path == "/v1/chat/completions"]


def gist_chats(server: LocalHTTPServer) -> list[Request]:
    return [r for r in chats(server) if not is_position(r)]


def engine_for(server: LocalHTTPServer, answer: Callable[[Request], Response], **kw: object) -> OpenAIEngine:
    server.route("/v1/chat/completions", answer)
    kw.setdefault("gist_entailment", False)  # the scripted server writes gists; it is no judge
    cfg = SummariserConfig(engine="openai", openai_base_url=server.url("/v1"), openai_model="m",
                           openai_backoff_seconds=0.01, **kw)  # type: ignore[arg-type]
    engine = build_engine(cfg)
    assert isinstance(engine, OpenAIEngine)
    return engine


def test_a_faithful_gist_from_the_server_is_kept_over_the_extractive_facts(
        server: LocalHTTPServer, seed_doc: Document, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("BRIEFING_OPENAI_API_KEY", "sk-test")
    brief = engine_for(server, lambda req: gist_answer(FAITHFUL)).summarise(seed_doc)
    assert brief.gist == FAITHFUL
    assert brief.summary and brief.actors  # the extractive key facts and actors stay
    assert brief.engine == "openai" and brief.model and brief.model.startswith("m@")
    assert any("checked by the claim guard" in f for f in brief.flags)
    (req,) = gist_chats(server)
    assert json.loads(req.body)["model"] == "m"
    assert req.headers["authorization"] == "Bearer sk-test"  # the key from the environment
    assert "first sentence of a news report on the article above" in prompt_of(req)  # the shared prompt


def test_positions_from_the_server_are_condensed_and_guarded_against_their_evidence(
        server: LocalHTTPServer, seed_doc: Document) -> None:
    def answer(req: Request) -> Response:
        if not is_position(req):
            return gist_answer(FAITHFUL)
        if '"Moscow/Minsk: Russian President Vladimir Putin' in prompt_of(req):
            return completion("Warns against any external interference in Belarus.")
        return completion("Wants 500,000 troops sent to Minsk.")  # not in any evidence sentence

    brief = engine_for(server, answer).summarise(seed_doc)
    putin = next(a for a in brief.actors if a.name == "Vladimir Putin")
    assert putin.position == "Warns against any external interference in Belarus"
    assert putin.evidence.startswith("Moscow/Minsk: Russian President Vladimir Putin")  # verbatim evidence kept
    assert len([r for r in chats(server) if is_position(r)]) == 3  # the three most prominent actors
    assert not any("500,000" in a.position for a in brief.actors)  # unsupported: the extractive one stays
    assert any("500,000" in f and "rejected" in f for f in brief.flags)


def test_an_invented_number_is_rejected_then_written_again(server: LocalHTTPServer, seed_doc: Document) -> None:
    def answer(req: Request) -> Response:
        return gist_answer(CORRECTED if "was rejected" in prompt_of(req) else INVENTED)

    brief = engine_for(server, answer).summarise(seed_doc)
    assert brief.gist == CORRECTED
    assert len(gist_chats(server)) == 2 and "300,000" in prompt_of(gist_chats(server)[1])  # told why
    assert any("300,000" in f and "written again" in f for f in brief.flags)


def test_a_gist_invented_twice_is_dropped(server: LocalHTTPServer, seed_doc: Document) -> None:
    brief = engine_for(server, lambda req: gist_answer(INVENTED)).summarise(seed_doc)
    assert brief.gist == "" and brief.engine == "extractive" and brief.summary
    assert len(gist_chats(server)) == 2
    assert any(f.startswith("second gist") for f in brief.flags)


def test_a_429_is_waited_out_for_its_retry_after_then_the_gist_arrives(
        server: LocalHTTPServer, seed_doc: Document) -> None:
    calls: list[float] = []

    def answer(req: Request) -> Response:
        if not is_position(req):
            calls.append(time.monotonic())
        if len(calls) == 1:
            return Response("slow down", 429, headers={"Retry-After": "1"})
        return gist_answer(FAITHFUL)

    brief = engine_for(server, answer).summarise(seed_doc)
    assert brief.gist == FAITHFUL
    assert len(calls) == 2 and calls[1] - calls[0] >= 0.9  # the back-off alone would be 0.01 s


def test_a_500_storm_ends_in_the_extractive_brief_flagged_and_the_server_is_left_alone(
        server: LocalHTTPServer, seed_doc: Document) -> None:
    engine = engine_for(server, lambda req: Response("overloaded", 500), openai_max_retries=2)
    brief = engine.summarise(seed_doc)
    assert brief.gist == "" and brief.engine == "extractive" and brief.summary and brief.actors
    assert any(f.startswith("no gist") and "HTTP 500" in f for f in brief.flags)
    assert len(chats(server)) == 3  # one try and two retries
    again = engine.summarise(seed_doc)  # within DOWN_SECONDS: not asked, still a brief
    assert len(chats(server)) == 3 and again.summary and any(f.startswith("no gist") for f in again.flags)


def test_a_server_that_does_not_answer_in_time_leaves_the_brief_extractive(
        server: LocalHTTPServer, seed_doc: Document) -> None:
    engine = engine_for(server, lambda req: Response(gist_answer(FAITHFUL).body, delay=3.0),
                        openai_timeout_seconds=0.3, openai_max_retries=1)
    start = time.monotonic()
    brief = engine.summarise(seed_doc)
    assert time.monotonic() - start < 2.5  # two 0.3 s limits, not two 3 s answers
    assert brief.gist == "" and brief.summary
    assert any("no answer within 0.3s" in f for f in brief.flags)


def test_retries_stop_within_the_workers_time_limit_per_article(server: LocalHTTPServer, seed_doc: Document) -> None:
    engine = engine_for(server, lambda req: Response("overloaded", 503), openai_max_retries=50,
                        openai_timeout_seconds=0.2, timeout_seconds=1.0)
    start = time.monotonic()
    brief = engine.summarise(seed_doc)
    assert time.monotonic() - start < 1.0  # summariser.timeout_seconds: the worker would fail the article
    assert 1 < len(chats(server)) < 10 and brief.summary
    assert any("no time left for a retry" in f for f in brief.flags)


def test_concurrent_requests_never_exceed_the_limit(server: LocalHTTPServer, seed_doc: Document) -> None:
    lock = threading.Lock()
    now, peak = [0], [0]

    def answer(req: Request) -> Response:
        with lock:
            now[0] += 1
            peak[0] = max(peak[0], now[0])
        time.sleep(0.2)
        with lock:
            now[0] -= 1
        return gist_answer(FAITHFUL)

    engine = engine_for(server, answer, openai_concurrency=2)
    docs = [Document(seed_doc.title + f" {i}", seed_doc.text) for i in range(6)]
    briefs = engine.summarise_many(docs)
    assert [b.gist for b in briefs] == [FAITHFUL] * 6
    assert [b.headline for b in briefs] == [engine.inner.summarise(d).headline for d in docs]  # order kept
    assert peak[0] == 2  # in parallel, and never more than openai_concurrency


def test_a_refused_request_is_not_retried_and_is_classified(server: LocalHTTPServer, seed_doc: Document) -> None:
    engine = engine_for(server, lambda req: Response('{"error": "model not found"}', 404))
    brief = engine.summarise(seed_doc)
    assert len(chats(server)) == 1 and brief.gist == "" and brief.summary
    assert any("404" in f and "model not found" in f for f in brief.flags)
    assert classify(SummariserRejected("x", 404)) is Action.SKIP_AND_RECORD
    assert classify(SummariserUnavailable("x")) is Action.RETRY_LATER


def test_an_unreachable_server_at_start_is_logged_and_briefs_stay_extractive(
        seed_doc: Document, caplog: pytest.LogCaptureFixture) -> None:
    dead = LocalHTTPServer().start()
    url = dead.url("/v1")
    dead.stop()  # nothing listens on this port now
    caplog.set_level(logging.WARNING)
    cfg = SummariserConfig(engine="openai", openai_base_url=url, openai_model="m", openai_max_retries=1,
                           openai_backoff_seconds=0.01)
    brief = build_engine(cfg).summarise(seed_doc)
    assert any("unreachable" in r.getMessage() for r in caplog.records)
    assert brief.gist == "" and brief.summary and any("unreachable" in f for f in brief.flags)
    with pytest.raises(ModelUnavailableError, match="unreachable"):
        build_engine(cfg.model_copy(update={"fallback": "none"}))


def test_the_model_name_is_required() -> None:
    with pytest.raises(ConfigError, match="openai_model"):
        build_engine(SummariserConfig(engine="openai"))
