"""The one typed configuration object, loaded once at start-up and passed down.

``load_config`` reads ``config.yaml``; every error names the file, the key path
and what was expected. Secrets never live in the file: the file names the
environment variables that hold them (``*_env`` keys), read on use.
Every limit has a default here, and the README's configuration reference lists
each key (``tests/test_docs.py`` keeps the two in step).
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from briefing.errors import ConfigError
from briefing.models import SourceSpec

DEFAULT_USER_AGENT = "briefing/0.1 (+https://github.com/briefing-bot/briefing; self-hosted news briefs)"


class _Section(BaseModel):
    # Unknown keys are errors: a typo must not silently fall back to a default.
    model_config = ConfigDict(extra="forbid", frozen=True)


def compile_pattern(pattern: str) -> re.Pattern[str]:
    """A keyword/phrase as whole words, or ``/regex/``; raises ``re.error`` for a bad regex."""
    text = pattern.strip()
    if len(text) >= 2 and text.startswith("/") and text.endswith("/"):
        return re.compile(text[1:-1], re.IGNORECASE)
    words = r"\s+".join(re.escape(w) for w in text.split())
    return re.compile(rf"(?<!\w){words}(?!\w)", re.IGNORECASE)


class SourceConfig(_Section):
    name: str = Field(min_length=1)
    # auto: feed or page, told apart by the response (sources added with /addsource)
    kind: Literal["feed", "page", "folder", "auto"]
    url: str | None = None
    path: str | None = None
    interval_minutes: float = Field(default=30.0, gt=0)
    topics: tuple[str, ...] = ()
    enabled: bool = True
    # Keywords/phrases (whole words) or /regex/, matched against title and text before summarising.
    include: tuple[str, ...] = ()
    exclude: tuple[str, ...] = ()

    @field_validator("include", "exclude")
    @classmethod
    def _patterns(cls, patterns: tuple[str, ...]) -> tuple[str, ...]:
        for p in patterns:
            if not p.strip():
                raise ValueError("an empty pattern would match everything")
            try:
                compile_pattern(p)
            except re.error as exc:
                raise ValueError(f"{p!r} is not a valid regular expression: {exc}") from None
        return patterns
    # Fetch this source (and the item links and redirects of its feed) even from loopback,
    # private or link-local addresses. Off by default: every URL the service fetches must be
    # public unless an operator opts a source in here (issue 8).
    allow_private: bool = False

    @model_validator(mode="after")
    def _location(self) -> "SourceConfig":
        if self.kind == "folder" and not self.path:
            raise ValueError("a folder source needs 'path'")
        if self.kind in ("feed", "page", "auto") and not (self.url or self.path):
            raise ValueError(f"a {self.kind} source needs 'url' (or 'path' for a local file)")
        return self

    @property
    def location(self) -> str:
        return self.url or self.path or ""

    def spec(self) -> SourceSpec:
        """What the store keeps of this source (plain values: the store does not know the config)."""
        return SourceSpec(self.name, self.kind, self.location, tuple(self.topics), self.enabled)


class IngestConfig(_Section):
    timeout_seconds: float = Field(default=20.0, gt=0)
    max_bytes: int = Field(default=5_000_000, gt=0)
    max_redirects: int = Field(default=5, ge=0)
    user_agent: str = DEFAULT_USER_AGENT
    per_host_delay_seconds: float = Field(default=1.0, ge=0)
    # Hosts polled at once by `briefing ingest` (sources on one host go one after another).
    max_concurrent_polls: int = Field(default=8, gt=0)
    retry_base_seconds: float = Field(default=60.0, gt=0)
    retry_max_seconds: float = Field(default=6 * 3600.0, gt=0)
    max_articles_per_poll: int = Field(default=50, gt=0)
    min_article_chars: int = Field(default=200, ge=0)
    near_duplicate_threshold: float = Field(default=0.5, gt=0, le=1)
    # Untrusted documents are parsed in a child process with these limits (issue 8): a parse that
    # runs longer is killed, so a hostile feed or file cannot freeze the service.
    parse_timeout_seconds: float = Field(default=20.0, gt=0)
    parse_max_memory_mb: int = Field(default=1024, ge=256)
    fetch_full_text: bool = True


class SummariserConfig(_Section):
    engine: Literal["extractive", "transformers", "hybrid", "openai"] = "extractive"
    model: str = "embedded:smollm2-135m-instruct"
    gguf_file: str | None = None
    fallback: Literal["extractive", "none"] = "extractive"
    device: Literal["auto", "cpu", "cuda", "mps"] = "auto"
    dtype: Literal["auto", "float32", "bfloat16", "float16"] = "auto"
    threads: int = Field(default=0, ge=0)
    cache_dir: str | None = None
    summary_sentences: int = Field(default=3, ge=1, le=5)
    # 0: no word budget, the lead's first summary_sentences sentences (Lead-3). No budget beat
    # Lead-3 on both datasets under cross-validation, and the rule for that case is the
    # lead itself (docs/eval.md, issue 9). 10-300: whole lead sentences nearer this many words.
    summary_words: int = Field(default=0, ge=0, le=300)
    max_actors: int = Field(default=6, ge=0)
    spacy_model: str = "en_core_web_sm"
    max_input_tokens: int = Field(default=1536, gt=0)
    max_new_tokens: int = Field(default=160, gt=0)
    batch_size: int = Field(default=4, gt=0)
    timeout_seconds: float = Field(default=120.0, gt=0)
    queue_size: int = Field(default=64, gt=0)
    prompts_dir: str = "prompts"
    # Measured on SmolLM2's real output (docs/eval.md): invented claims scored 0.36-0.58.
    grounding_threshold: float = Field(default=0.6, ge=0, le=1)
    # One JSON prompt for the whole brief, or one short prompt per field (see docs/eval.md).
    prompt_style: Literal["json", "fields"] = "fields"
    # The model-written gist and positions on every brief (issue 10; docs/eval.md), written by
    # gist_model through llama.cpp. Off here so a bare config stays extractive and fast;
    # the shipped config.yaml turns it on.
    gist: bool = False
    gist_model: str = "embedded:qwen2.5-coder-1.5b-instruct"
    # Where `briefing model install` assembles offline GGUF models.
    models_dir: str = "~/.cache/briefing/models"
    # llama.cpp for a GGUF on the CPU when it is installed (docs/benchmarks.md), else transformers.
    runtime: Literal["auto", "llama.cpp", "transformers"] = "auto"
    # The entailment question to the gist model after the rule checks ("do these source sentences
    # state the claim?"), kept when its yes-over-no logit margin is at least gist_entailment_margin.
    # Both chosen by cross-validation on the hand labels (docs/eval.md, "The claim guard").
    gist_entailment: bool = True
    gist_entailment_margin: float = 1.5
    # Share of a gist's content words (names aside) that the article sentences it paraphrases must
    # hold; 0 = not checked. Chosen by cross-validation on the hand labels (docs/eval.md).
    gist_min_coverage: float = Field(default=0.65, ge=0, le=1)
    # The article the gist model reads, cut at a paragraph end. Prefill on 2 cores runs at ~50
    # tokens/s, so this is most of a gist's time; 256 was chosen by 5-fold cross-validation
    # among 256/512/1536 under a rule fixed before the run (the shortest within 0.5 ROUGE-2 of
    # the best; docs/eval.md, "How much of the article the model reads"). The guard still
    # checks the gist against the whole article.
    gist_max_input_tokens: int = Field(default=256, gt=0)
    gist_max_new_tokens: int = Field(default=256, gt=0)
    # /summary: the extractive brief at once, then the same message edited when the gist
    # arrives within this many seconds; after that it stays extractive (logged).
    gist_timeout_seconds: float = Field(default=30.0, gt=0)
    # engine: openai: the gist from an OpenAI-compatible server (vLLM, llama-server, Ollama, TGI).
    openai_base_url: str = "http://127.0.0.1:8000/v1"
    openai_model: str = ""
    openai_api_key_env: str = "BRIEFING_OPENAI_API_KEY"  # the variable's name; the key never sits in a file
    openai_concurrency: int = Field(default=8, gt=0)
    openai_timeout_seconds: float = Field(default=30.0, gt=0)
    openai_max_retries: int = Field(default=3, ge=0)
    openai_backoff_seconds: float = Field(default=1.0, ge=0)

    @field_validator("summary_words")
    @classmethod
    def _budget(cls, value: int) -> int:
        if 0 < value < 10:
            raise ValueError("must be 0 (no word budget: the first summary_sentences sentences) or 10-300")
        return value


class TelegramConfig(_Section):
    enabled: bool = False
    token_env: str = "BRIEFING_TELEGRAM_TOKEN"
    base_url: str = "https://api.telegram.org/bot"
    admins: tuple[int, ...] = ()
    mode: Literal["polling", "webhook"] = "polling"
    webhook_url: str | None = None
    webhook_secret_env: str = "BRIEFING_TELEGRAM_WEBHOOK_SECRET"
    webhook_listen: str = "127.0.0.1"
    webhook_port: int = Field(default=8443, gt=0, lt=65536)
    summary_rate_per_hour: int = Field(default=10, ge=0)
    messages_per_second: float = Field(default=30.0, gt=0)
    per_chat_interval_seconds: float = Field(default=1.0, ge=0)
    # Telegram: at most 20 messages a minute to one group or channel.
    group_messages_per_minute: float = Field(default=20.0, gt=0)
    max_retries: int = Field(default=5, ge=0)
    summary_top_n: int = Field(default=5, gt=0)
    # Back-off after a transient send failure (network error, 5xx): base * 2**(attempt-1), capped.
    retry_base_seconds: float = Field(default=5.0, ge=0)
    retry_max_seconds: float = Field(default=900.0, ge=0)
    # Transient failures (network, 5xx, 429) are retried for as long as the brief is this young:
    # an outage of hours loses nothing; a brief older than this is no longer news (issue 8).
    retry_max_age_hours: float = Field(default=24.0, gt=0)


class EmailConfig(_Section):
    enabled: bool = False
    smtp_host: str = "localhost"
    smtp_port: int = Field(default=587, gt=0, lt=65536)
    security: Literal["starttls", "ssl", "none"] = "starttls"
    username_env: str = "BRIEFING_SMTP_USERNAME"
    password_env: str = "BRIEFING_SMTP_PASSWORD"
    from_address: str = "briefing@localhost"
    timeout_seconds: float = Field(default=30.0, gt=0)
    send_empty_digest: bool = False
    unsubscribe_base_url: str = "http://localhost:8080"
    unsubscribe_mailto: str | None = None
    unsubscribe_secret_env: str = "BRIEFING_UNSUBSCRIBE_SECRET"
    http_listen: str = "127.0.0.1"
    http_port: int = Field(default=8080, gt=0, lt=65536)
    code_ttl_minutes: float = Field(default=30.0, gt=0)
    code_max_attempts: int = Field(default=5, gt=0)
    # One new code per subscriber per this many seconds, so /email cannot flood an inbox.
    code_resend_seconds: float = Field(default=60.0, ge=0)
    retry_base_seconds: float = Field(default=60.0, gt=0)
    retry_max_seconds: float = Field(default=3600.0, gt=0)
    # A digest failing transiently (4xx, connection) is retried until it is this old (issue 8).
    retry_max_age_hours: float = Field(default=24.0, gt=0)
    # A digest whose local time passed more than this long ago (service down) is skipped for
    # that day; its briefs are not lost, they go into the next digest.
    catch_up_hours: float = Field(default=12.0, ge=0)
    # A digest left 'sending' this long belongs to a process that died; it is sent again.
    sending_stale_seconds: float = Field(default=600.0, gt=0)
    max_briefs: int = Field(default=40, gt=0)


class ServiceConfig(_Section):
    summarise_interval_seconds: float = Field(default=30.0, gt=0)
    deliver_interval_seconds: float = Field(default=10.0, gt=0)
    digest_check_seconds: float = Field(default=60.0, gt=0)
    misfire_grace_seconds: float = Field(default=300.0, gt=0)
    jitter_seconds: float = Field(default=30.0, ge=0)
    shutdown_timeout_seconds: float = Field(default=20.0, gt=0)
    lease_seconds: float = Field(default=60.0, gt=0)
    summarise_batch_size: int = Field(default=8, gt=0)
    deliver_batch_size: int = Field(default=50, gt=0)
    sources_check_seconds: float = Field(default=60.0, gt=0)
    # The one web server: /healthz, /metrics and (with email) the unsubscribe endpoint.
    http_enabled: bool = True
    http_listen: str = "127.0.0.1"
    http_port: int = Field(default=8080, ge=0, lt=65536)  # 0: any free port (tests)


class StoriesConfig(_Section):
    """Story clustering (issue 12); the weights and threshold are chosen by k-fold CV (docs/stories.md)."""

    enabled: bool = True
    window_hours: float = Field(default=72.0, gt=0)
    threshold: float = Field(default=0.65, gt=0, le=1)
    weight_embedding: float = Field(default=1.0, ge=0)
    weight_entities: float = Field(default=0.0, ge=0)
    weight_title: float = Field(default=0.0, ge=0)
    linkage: Literal["mean", "max"] = "max"
    update_interval_seconds: float = Field(default=60.0, gt=0)


class Config(_Section):
    data_dir: str = "data"
    database_url: str | None = None
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"
    sources: tuple[SourceConfig, ...] = ()
    ingest: IngestConfig = IngestConfig()
    summariser: SummariserConfig = SummariserConfig()
    telegram: TelegramConfig = TelegramConfig()
    email: EmailConfig = EmailConfig()
    service: ServiceConfig = ServiceConfig()
    stories: StoriesConfig = StoriesConfig()
    # Directory the config file lives in: relative paths are resolved against it.
    base_dir: str = Field(default=".", exclude=True)

    @field_validator("sources")
    @classmethod
    def _unique_names(cls, sources: tuple[SourceConfig, ...]) -> tuple[SourceConfig, ...]:
        names = [s.name for s in sources]
        dupes = sorted({n for n in names if names.count(n) > 1})
        if dupes:
            raise ValueError(f"source names must be unique; repeated: {', '.join(dupes)}")
        return sources

    @model_validator(mode="after")
    def _anchor_prompts(self) -> "Config":
        """A relative ``summariser.prompts_dir`` is relative to the config file, like every path."""
        rel = Path(self.summariser.prompts_dir).expanduser()
        anchored = Path(self.base_dir) / rel
        if rel.is_absolute() or not anchored.is_dir():
            return self  # absolute, or absent here: prompts.resolve_folder falls back to the bundled ones
        return self.model_copy(update={"summariser": self.summariser.model_copy(
            update={"prompts_dir": str(anchored.resolve())})})

    def source_specs(self) -> list[SourceSpec]:
        """The configured sources as :meth:`briefing.store.Store.sync_sources` takes them."""
        return [s.spec() for s in self.sources]

    def resolve(self, path: str) -> Path:
        """A path from the config, relative to the config file's directory."""
        p = Path(path).expanduser()
        return p if p.is_absolute() else Path(self.base_dir) / p

    @property
    def data_path(self) -> Path:
        return self.resolve(self.data_dir)

    @property
    def db_url(self) -> str:
        if self.database_url:
            return self.database_url
        return f"sqlite:///{(self.data_path / 'briefing.db').resolve()}"

    @property
    def http_address(self) -> tuple[str, int]:
        """Where the service's web server listens: ``service.http_*``, unless the older
        ``email.http_listen``/``email.http_port`` are set (they still name the same server)."""
        listen = self.email.http_listen if "http_listen" in self.email.model_fields_set else self.service.http_listen
        port = self.email.http_port if "http_port" in self.email.model_fields_set else self.service.http_port
        return listen, port

    def source(self, name: str) -> SourceConfig | None:
        return next((s for s in self.sources if s.name == name), None)


def secret(env_name: str) -> str | None:
    """Read a secret from the environment variable the config names; empty means unset."""
    value = os.environ.get(env_name, "").strip()
    return value or None


def _loc(loc: tuple[Any, ...]) -> str:
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += f".{part}" if out else str(part)
    return out or "(top level)"


def _describe(err: dict[str, Any]) -> str:
    kind = err["type"]
    got = err.get("input")
    if kind == "extra_forbidden":
        return "unknown key"
    if kind == "missing":
        return "required value is missing"
    if kind == "literal_error":
        expected = err.get("ctx", {}).get("expected", "")
        return f"expected one of {expected}, got {got!r}"
    msg = err["msg"]
    if msg.startswith("Value error, "):
        msg = msg[len("Value error, "):]
    if kind in ("model_type", "model_attributes_type", "dict_type"):
        return f"expected a mapping, got {type(got).__name__}"
    return f"{msg} (got {got!r})"


def parse_config(data: Any, origin: str = "<config>", base_dir: str | Path = ".") -> Config:
    """Validate already-loaded YAML data into a :class:`Config`."""
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise ConfigError(f"{origin}: expected a mapping at the top level, got {type(data).__name__}")
    try:
        return Config.model_validate({**data, "base_dir": str(base_dir)})
    except ValidationError as exc:
        lines = [f"{origin}: {_loc(e['loc'])}: {_describe(e)}" for e in exc.errors()]
        raise ConfigError("invalid configuration:\n  " + "\n  ".join(lines)) from None


def load_config(path: str | Path, overrides: dict[str, Any] | None = None) -> Config:
    """Load and validate a config file; ``overrides`` are dotted keys from CLI options."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError(f"{path}: configuration file not found") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{path}: cannot read configuration file: {exc}") from None
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise ConfigError(f"{path}: not valid YAML: {exc}") from None
    if isinstance(data, dict):
        for dotted, value in (overrides or {}).items():
            _set_dotted(data, dotted, value)
    return parse_config(data, origin=str(path), base_dir=path.resolve().parent)


def _set_dotted(data: dict[str, Any], dotted: str, value: Any) -> None:
    *parents, leaf = dotted.split(".")
    node = data
    for key in parents:
        node = node.setdefault(key, {})
        if not isinstance(node, dict):
            return
    node[leaf] = value


def config_keys(model: type[BaseModel] = Config, prefix: str = "") -> list[str]:
    """Every documented key path, e.g. ``summariser.engine``, ``sources[].kind``."""
    keys: list[str] = []
    for name, field in model.model_fields.items():
        if field.exclude:
            continue
        path = f"{prefix}{name}"
        ann = field.annotation
        inner = getattr(ann, "__args__", (None,))[0] if name == "sources" else ann
        if isinstance(inner, type) and issubclass(inner, BaseModel):
            sub = f"{path}[]." if name == "sources" else f"{path}."
            keys.extend(config_keys(inner, sub))
        else:
            keys.append(path)
    return keys
