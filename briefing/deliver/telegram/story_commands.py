"""Telegram faces of stories (issue 12): /follow, /unfollow, /stories, the buttons under every
pushed brief ("Follow this story", "Report a problem"), "What's new" and correction messages,
and the admin's /flagged and /recheck.

``COMMANDS`` are registered by the service (:func:`briefing.service.bot_commands.bot_commands`);
the bot routes the story buttons here. The work is behind :class:`briefing.app.App` (its story
methods, over :class:`briefing.stories.service.Stories`).
"""

from __future__ import annotations

import logging
from typing import Any

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update

from briefing.app import App
from briefing.blocking import blocking
from briefing.deliver.telegram.request import Command, CommandRequest
from briefing.deliver.telegram.format import esc
from briefing.stories.render import story_html
from briefing.stories.service import FLAG_KINDS, Notice, Stories

log = logging.getLogger(__name__)

PREFIX = "story:"


def stories_of(app: App) -> Stories:
    """The App's one :class:`Stories` (it holds the NLP models); the handlers call App's story methods."""
    return app.stories


def brief_keyboard(article_id: int) -> InlineKeyboardMarkup:
    """Under every pushed brief: follow its story, or report a problem with it."""
    return InlineKeyboardMarkup([[
        InlineKeyboardButton("Follow this story", callback_data=f"{PREFIX}f:a{article_id}"),
        InlineKeyboardButton("Report a problem", callback_data=f"{PREFIX}r:a{article_id}"),
    ]])


def keyboard_for_brief(app: App, brief_id: int) -> InlineKeyboardMarkup | None:
    article_id = app.brief_article_id(brief_id)
    return brief_keyboard(article_id) if article_id is not None else None


def story_keyboard(story_id: int) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup([[
        InlineKeyboardButton("Follow this story", callback_data=f"{PREFIX}f:{story_id}"),
        InlineKeyboardButton("Report a problem", callback_data=f"{PREFIX}r:{story_id}"),
    ]])


def _story_id(app: App, ref: str) -> int | None:
    """``a<article id>`` (the story is found, or made, now) or a story id."""
    if ref.startswith("a") and ref[1:].isdigit():
        return app.story_of_article(int(ref[1:]))
    return int(ref) if ref.isdigit() else None


async def follow_command(req: CommandRequest) -> None:
    sub = await req.subscriber()
    if not req.args:
        ids = await req.run(req.app.followed_stories, sub.id)
        if not ids:
            await req.reply("You follow no story. Press <b>Follow this story</b> under a brief, or send "
                            "<code>/follow &lt;story number&gt;</code> (see /stories).")
            return
        lines = ["<b>Stories you follow</b>"]
        for sid in ids:
            story = await req.run(req.app.story, sid)
            if story:
                lines.append(f"{sid}. {esc(story.brief.headline)} ({len(story.brief.outlets)} outlets)")
        await req.reply("\n".join(lines))
        return
    sid = await req.run(_story_id, req.app, req.args[0])
    await req.reply(await _follow(req, sub.id, sid))


async def _follow(req: CommandRequest, subscriber_id: int, sid: int | None) -> str:
    story = await req.run(req.app.story, sid) if sid is not None else None
    if story is None:
        return "I don't know that story. /stories lists the recent ones."
    new = await req.run(req.app.follow_story, subscriber_id, story.id)
    verb = "Following" if new else "You already follow"
    return (f"{verb} <b>{esc(story.brief.headline)}</b>. I'll tell you what's new when an outlet "
            f"adds a fact, an actor or a changed position. /unfollow {story.id} stops it.")


async def unfollow_command(req: CommandRequest) -> None:
    sub = await req.subscriber()
    if not req.args or not req.args[0].isdigit():
        await req.reply("Send <code>/unfollow &lt;story number&gt;</code>; /follow lists yours.")
        return
    done = await req.run(req.app.unfollow_story, sub.id, int(req.args[0]))
    await req.reply("Done: no more updates on that story." if done else "You don't follow that story.")


async def stories_command(req: CommandRequest) -> None:
    recent = await req.run(req.app.recent_stories, 5)
    if not recent:
        await req.reply("No stories yet.")
        return
    for story in recent:
        await req.reply(f"<b>Story {story.id}</b>\n" + story_html(story.id, story.brief),
                        keyboard=story_keyboard(story.id))


async def flagged_command(req: CommandRequest) -> None:
    flags = await req.run(req.app.story_flags, "open")
    if not flags:
        await req.reply("No open problem reports.")
        return
    lines = ["<b>Reported problems</b>"]
    for f in flags:
        story = await req.run(req.app.story, f.story_id)
        title = story.brief.headline if story else "?"
        lines.append(f"#{f.id} story {f.story_id} — wrong {esc(f.kind)}: {esc(title)} — /recheck {f.id}")
    await req.reply("\n".join(lines))


async def recheck_command(req: CommandRequest) -> None:
    if not req.args or not req.args[0].isdigit():
        await req.reply("Send <code>/recheck &lt;report number&gt;</code>; /flagged lists them.")
        return
    try:
        notices = await req.run(req.app.recheck_flag, int(req.args[0]))
    except KeyError:
        await req.reply("No such report.")
        return
    if not notices:
        flag = next((f for f in await req.run(req.app.story_flags, None) if f.id == int(req.args[0])), None)
        await req.reply(f"Re-checked: {esc(flag.resolution if flag else 'nothing to change')}.")
        return
    sent = await send_notices(req.bot, notices)
    await req.reply(f"Corrected; {sent} follower(s) told.")


async def send_notices(bot: Any, notices: list[Notice]) -> int:
    """Send each notice, then record it as told (a notice another sender recorded is skipped)."""
    sent = 0
    for n in notices:
        if n.chat_id is None:
            continue
        if bot.dry_run:  # logged only: the follower is not marked as told, so a real run sends it
            log.info("dry run: would send story %s update to chat %s", n.story_id, n.chat_id)
            continue
        await bot.send(n.chat_id, n.html, keyboard=None)
        if await blocking(bot.app.story_told, n):
            sent += 1
    return sent


async def send_story_updates(bot: Any) -> int:
    """The service's deliver job calls this: assign new articles, then send "What's new"."""
    return await send_notices(bot, await blocking(bot.app.story_notices))


async def on_button(bot: Any, update: Update) -> None:
    query = update.callback_query
    assert query is not None and query.data is not None
    req = CommandRequest(bot, update, [])
    action, _, rest = query.data.removeprefix(PREFIX).partition(":")
    if action == "f":
        sub = await req.subscriber()
        sid = await req.run(_story_id, req.app, rest)
        await query.answer("Following" if sid is not None else "That button is out of date.")
        await req.reply(await _follow(req, sub.id, sid))
        return
    if action == "r":  # which kind of problem?
        await query.answer()
        buttons = [InlineKeyboardButton(f"Wrong {k}", callback_data=f"{PREFIX}k:{rest}:{k}")
                   for k in FLAG_KINDS if k != "other"]
        await req.reply("What is wrong in this brief?", keyboard=InlineKeyboardMarkup([buttons]))
        return
    if action == "k":
        ref, _, kind = rest.partition(":")
        sid = await req.run(_story_id, req.app, ref)
        if sid is None or kind not in FLAG_KINDS:
            await query.answer("That button is out of date.")
            return
        sub = await req.subscriber()
        await req.run(req.app.flag_story, sid, sub.id, kind)
        await query.answer("Thank you — reported")
        await req.reply("Thank you. The brief will be re-checked against its articles; if it changes, "
                        "followers get a correction.")
        return
    await query.answer("That button is out of date.")


COMMANDS = [
    Command("follow", "follow a story: updates when it changes", follow_command, usage="/follow [story number]"),
    Command("unfollow", "stop following a story", unfollow_command, usage="/unfollow <story number>"),
    Command("stories", "recent stories across outlets", stories_command),
    Command("flagged", "briefs readers reported a problem with", flagged_command, admin=True),
    Command("recheck", "re-check a reported brief and correct it", recheck_command,
            usage="/recheck <report number>", admin=True),
]
