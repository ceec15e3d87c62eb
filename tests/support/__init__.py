"""What the tests share, in one place (issue 11): each helper exists once.

- :mod:`tests.support.config`: the repository paths and ``make_config`` (a config in ``tmp_path``).
- :mod:`tests.support.http`: the one HTTP server harness (``LocalHTTPServer``) and ``free_port``.
- :mod:`tests.support.botapi`: the Telegram Bot API server on localhost (also ``python -m`` for benches).
- :mod:`tests.support.smtp`: the SMTP server (aiosmtpd) and its recording ``Mailbox``.
- :mod:`tests.support.briefs`: ``add_brief``, a stored article and its brief.
- :mod:`tests.support.wait`: ``eventually``, the one way to wait for something to happen.
- :mod:`tests.support.process`: ``briefing run`` as a real process.
- :mod:`tests.support.fixtures`: ``http_server``, ``botapi``, ``smtp_server``; registered once, by
  ``pytest_plugins`` in ``tests/conftest.py``.

No test folder imports another folder's conftest: what two folders share lives here.
"""
