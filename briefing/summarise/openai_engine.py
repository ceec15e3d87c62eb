"""The ``openai`` engine: the gist written by any OpenAI-compatible server, under the same claim guard.

``summariser.engine: openai`` keeps the extractive brief (key facts, actors and their evidence)
and asks a server speaking ``POST /v1/chat/completions`` (vLLM, llama.cpp's ``llama-server``,
Ollama, TGI) for the gist and the condensed positions. The prompts, the answer's shape and the
guard are the llama.cpp gist's own (:class:`briefing.summarise.gist.Abstractor`); only the model
behind it differs, through :class:`ChatServer`, which plays the part of ``LlamaModel``:

- the server applies its model's chat template, so the prompt goes out as one user message;
- no grammar is sent (not every server takes one); the answer's first sentence is kept (a
  preamble line and quotes dropped), and the guard judges it as before;
- at most ``openai_concurrency`` requests are in flight (a semaphore shared by every thread);
  each has ``openai_timeout_seconds``; connection errors, time-outs, 429 and 5xx are retried
  ``openai_max_retries`` times with exponential back-off, honouring ``Retry-After``; any other
  4xx raises :class:`~briefing.errors.SummariserRejected` at once (a wrong model name or key
  will not fix itself). No retry starts that could end after half of ``summariser.timeout_seconds``
  (a brief asks at most twice), so the worker's time limit per article is not spent on retries.

When the server stays unreachable the brief is the extractive one, flagged "no gist: ..."
(:class:`~briefing.summarise.gist_engine.GistEngine`), and the server is left alone for
``DOWN_SECONDS`` so a dead server does not cost every brief its retries.
"""

from __future__ import annotations

import copy
import logging
import os
import re
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace

import httpx

from briefing.config import SummariserConfig
from briefing.errors import ConfigError, ModelUnavailableError, SummariserRejected, SummariserUnavailable
from briefing.models import Brief
from briefing.summarise.base import Document, Engine
from briefing.summarise.gist import YES_NO, Abstractor
from briefing.summarise.gist_engine import GistEngine
from briefing.summarise.llama_runtime import Completion

log = logging.getLogger(__name__)

OPENAI_VERSION = "openai-1"
DOWN_SECONDS = 30.0  # after retries are spent, briefs skip the server (extractive, flagged) this long
MAX_BACKOFF_SECONDS = 60.0  # no Retry-After or back-off waits longer than this


def _first_sentence(text: str) -> str:
    """The answer's first sentence, unquoted: what llama.cpp's one-sentence grammar would have allowed.

    A server has no grammar, so a model may add a preamble line ("Here is a summary:"), quotes or
    a second sentence; the guard then checks the one sentence kept.
    """
    lines = [ln.strip().strip('"“”`*') for ln in text.strip().splitlines() if ln.strip().strip('"“”`*')]
    if len(lines) > 1 and lines[0].endswith(":"):
        lines = lines[1:]
    first = lines[0] if lines else ""
    m = re.match(r"(.+?[.!?])[\"”’]?(?=\s+[A-Z\"“]|$)", first)
    return (m.group(1) if m else first).strip().strip('"“”')


class ChatServer:
    """An OpenAI-compatible chat endpoint with the interface :class:`Abstractor` uses."""

    has_chat_template = True  # the server applies the template

    def __init__(self, cfg: SummariserConfig) -> None:
        if not cfg.openai_model:
            raise ConfigError("summariser.openai_model: the model name the server serves is required "
                              "with summariser.engine: openai")
        self.base_url = cfg.openai_base_url.rstrip("/")
        self.model = cfg.openai_model
        self.path = f"{cfg.openai_model}@{self.base_url}"
        self.max_retries = cfg.openai_max_retries
        self.backoff = cfg.openai_backoff_seconds
        self.timeout = cfg.openai_timeout_seconds
        self.budget = cfg.timeout_seconds / 2  # per call: the gist, its one retry, then short position calls
        self.lock = threading.BoundedSemaphore(cfg.openai_concurrency)  # Abstractor holds it per call
        key = os.environ.get(cfg.openai_api_key_env, "") if cfg.openai_api_key_env else ""
        headers = {"Authorization": f"Bearer {key}"} if key else {}
        self.client = httpx.Client(timeout=cfg.openai_timeout_seconds, headers=headers)
        self._down_until = 0.0

    # -- what Abstractor asks of a model ----------------------------------------

    def chat_prompt(self, user_text: str) -> str:
        return user_text

    def count(self, text: str) -> int:
        """Tokens, estimated (about four characters each): the server's tokenizer is not here."""
        return len(text) // 4 + 1

    def complete(self, prompt: str, max_tokens: int, gbnf: str) -> Completion:
        start = time.perf_counter()
        body = {"model": self.model, "messages": [{"role": "user", "content": prompt}],
                "max_tokens": max_tokens, "temperature": 0}
        data = self.post("/chat/completions", body)
        try:
            text = str(data["choices"][0]["message"]["content"] or "").strip()
        except (KeyError, IndexError, TypeError) as exc:
            raise SummariserRejected(f"{self.base_url}: an answer without choices[0].message.content") from exc
        if gbnf == YES_NO:
            text = "yes" if text.lower().startswith("yes") else "no"
        else:  # the gist or a position: one sentence, as the grammar would force
            text = _first_sentence(text)
        usage = data.get("usage") or {}
        return Completion(text=text, prompt_tokens=int(usage.get("prompt_tokens", 0)), cached_tokens=0,
                          new_tokens=int(usage.get("completion_tokens", 0)), seconds=time.perf_counter() - start)

    # -- the HTTP part ---------------------------------------------------------

    def post(self, path: str, body: dict) -> dict:
        """The JSON answer, after retries with back-off; raises SummariserUnavailable or SummariserRejected."""
        if time.monotonic() < self._down_until:
            raise SummariserUnavailable(f"{self.base_url} was unreachable moments ago; not asked again yet")
        url = self.base_url + path
        problem = ""
        began = time.monotonic()
        for attempt in range(self.max_retries + 1):
            wait = min(self.backoff * 2 ** attempt, MAX_BACKOFF_SECONDS)
            try:
                resp = self.client.post(url, json=body)
            except httpx.TimeoutException:
                problem = f"no answer within {self.timeout:g}s"
            except httpx.TransportError as exc:
                problem = f"unreachable ({exc})"
            else:
                if resp.status_code < 400:
                    return resp.json()
                problem = f"HTTP {resp.status_code}: {resp.text[:200]}"
                if resp.status_code < 500 and resp.status_code not in (408, 429):
                    raise SummariserRejected(f"{url} refused the request: {problem}", resp.status_code)
                retry_after = resp.headers.get("retry-after", "")
                if retry_after.isdigit():  # seconds; an HTTP date falls back to the back-off
                    wait = min(float(retry_after), MAX_BACKOFF_SECONDS)
            if attempt == self.max_retries:
                break
            if time.monotonic() - began + wait + self.timeout > self.budget:
                problem += f" (no time left for a retry within {self.budget:g}s)"
                break
            log.info("%s: %s; retrying in %.1fs", url, problem, wait)
            time.sleep(wait)
        self._down_until = time.monotonic() + DOWN_SECONDS
        raise SummariserUnavailable(f"{url}: {problem} (after {attempt + 1} attempts)")

    def reachable(self) -> str:
        """"" when ``GET /models`` answers, else why not (one attempt, for the start-up log)."""
        try:
            self.client.get(self.base_url + "/models").raise_for_status()
        except httpx.HTTPError as exc:
            return str(exc) or type(exc).__name__
        return ""


class OpenAIEngine(GistEngine):
    """The extractive brief with the server's guarded gist; ``summarise_many`` runs briefs concurrently."""

    name = "openai"

    def __init__(self, inner: Engine, abstractor: Abstractor, concurrency: int) -> None:
        super().__init__(inner, abstractor)
        self.name = "openai"
        self.model = abstractor.label
        self.version = f"{inner.version}+{OPENAI_VERSION}+{abstractor.prompts.version}"
        self.concurrency = concurrency

    def improve(self, brief: Brief, doc: Document) -> Brief:
        """One brief, with its own copy of the abstractor (its per-brief stats are not shared)."""
        worker = copy.copy(self.abstractor)
        out = GistEngine(self.inner, worker).improve(brief, doc)
        return replace(out, engine=self.name, model=self.model) if out.gist else out

    def summarise_many(self, docs: list[Document]) -> list[Brief]:
        briefs = self.inner.summarise_many(docs)
        with ThreadPoolExecutor(max_workers=self.concurrency, thread_name_prefix="openai") as pool:
            return list(pool.map(self.improve, briefs, docs))


def build_openai_engine(cfg: SummariserConfig) -> Engine:
    """The ``openai`` engine; an unreachable server is logged (or fatal with ``fallback: none``)."""
    from briefing.summarise.claims import ClaimChecker
    from briefing.summarise.extractive import ExtractiveEngine
    from briefing.summarise.nlp import load_spacy
    from briefing.summarise.prompts import load_prompts

    prompts = load_prompts(cfg.prompts_dir)
    extractive = ExtractiveEngine(cfg)
    server = ChatServer(cfg)
    why = server.reachable()
    if why:
        if cfg.fallback == "none":
            raise ModelUnavailableError(f"the summariser server {server.base_url} is unreachable: {why}")
        log.warning("the summariser server %s is unreachable (%s): briefs stay extractive, flagged, "
                    "until it answers", server.base_url, why)
    abstractor = Abstractor(server, ClaimChecker(load_spacy(cfg.spacy_model), min_coverage=cfg.gist_min_coverage),
                            prompts,  # type: ignore[arg-type]
                            max_input_tokens=cfg.gist_max_input_tokens, max_new_tokens=cfg.gist_max_new_tokens,
                            entailment=cfg.gist_entailment, label=server.path,
                            entail_threshold=0.0)  # a server answers yes (1.0) or no (-1.0), not a margin
    return OpenAIEngine(extractive, abstractor, cfg.openai_concurrency)
