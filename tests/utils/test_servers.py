"""Self-tests of the loopback protocol servers, each driven by a real client."""

from __future__ import annotations

import asyncio
import concurrent.futures
import smtplib
from collections.abc import Callable, Coroutine
from email.message import EmailMessage
from typing import Any, TypeVar

import asyncssh
import httpx
import ollama
import pytest
from telegram import Bot, InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.error import BadRequest, Forbidden, InvalidToken, RetryAfter
from telegram.ext import (
    Application,
    CallbackQueryHandler,
    CommandHandler,
    ContextTypes,
    MessageHandler,
    filters,
)

from tests.utils.servers.http import HttpReceiver
from tests.utils.servers.ollama_api import Delay, HttpError, OllamaApi, RawBody, Reply, text, tool_call
from tests.utils.servers.ports import port_is_open
from tests.utils.servers.sftp import SftpServer
from tests.utils.servers.smtp import SmtpServer
from tests.utils.servers.telegram_api import TelegramApi
from tests.utils.servers.telegram_state import NOT_MODIFIED

# The server fixtures come from tests/utils/fixtures.py through tests/conftest.py.

T = TypeVar("T")


def run(coro_fn: Callable[[], Coroutine[Any, Any, T]], timeout: float = 10.0) -> T:
    """Run a coroutine in a fresh loop in a worker thread, so no test can hang on it."""
    with concurrent.futures.ThreadPoolExecutor(1) as pool:
        return pool.submit(asyncio.run, coro_fn()).result(timeout)


# -- SFTP --------------------------------------------------------------------------------------


def test_sftp_key_and_password_auth_write_inside_the_chroot(sftp_server: SftpServer) -> None:
    async def session(auth: Any, name: str) -> list[str]:
        async with asyncssh.connect(**sftp_server.client_options(auth=auth)) as conn:
            async with conn.start_sftp_client() as sftp:
                await sftp.makedirs("inbox", exist_ok=True)
                async with sftp.open(f"inbox/{name}.tmp", "w") as f:
                    await f.write(f"by {auth}")
                await sftp.posix_rename(f"inbox/{name}.tmp", "inbox/final.csv")
                assert await sftp.realpath("/../..") == "/"
                with pytest.raises(asyncssh.SFTPNoSuchFile):
                    await sftp.stat("../sftp-keys/client_ed25519")
                return sorted(await sftp.listdir("inbox"))

    assert run(lambda: session("key", "a")) == [".", "..", "final.csv"]
    assert run(lambda: session("password", "b")) == [".", "..", "final.csv"]
    assert (sftp_server.root / "inbox" / "final.csv").read_text() == "by password"


def test_sftp_rename_onto_existing_fails_and_scripted_failures(sftp_server: SftpServer) -> None:
    (sftp_server.root / "old.txt").write_text("old")
    (sftp_server.root / "new.txt").write_text("new")
    sftp_server.fail_next("open")

    async def session() -> None:
        async with asyncssh.connect(**sftp_server.client_options()) as conn:
            async with conn.start_sftp_client() as sftp:
                with pytest.raises(asyncssh.SFTPFailure, match="scripted failure of open"):
                    await sftp.open("x.txt", "w")
                with pytest.raises(asyncssh.SFTPFailure):
                    await sftp.rename("new.txt", "old.txt")

    run(session)
    assert (sftp_server.root / "old.txt").read_text() == "old"


def test_sftp_rejects_bad_password_and_unknown_host_key(sftp_server: SftpServer, tmp_path: Any) -> None:
    wrong_password = {**sftp_server.client_options(auth="password"), "password": "wrong"}
    other_key = asyncssh.generate_private_key("ssh-ed25519").export_public_key().decode().strip()
    (tmp_path / "other_known_hosts").write_text(f"[{sftp_server.host}]:{sftp_server.port} {other_key}\n")
    wrong_host = {**sftp_server.client_options(), "known_hosts": str(tmp_path / "other_known_hosts")}

    async def connect(options: dict[str, Any]) -> None:
        async with asyncssh.connect(**options):
            pass

    with pytest.raises(asyncssh.PermissionDenied):
        run(lambda: connect(wrong_password))
    with pytest.raises(asyncssh.HostKeyNotVerifiable):
        run(lambda: connect(wrong_host))


def test_sftp_stopped_server_is_unreachable(sftp_server: SftpServer) -> None:
    sftp_server.stop()
    assert not port_is_open(sftp_server.host, sftp_server.port)

    async def connect() -> None:
        async with asyncssh.connect(**sftp_server.client_options(), connect_timeout=2):
            pass

    with pytest.raises(OSError):
        run(connect)


# -- SMTP --------------------------------------------------------------------------------------


def _mail() -> EmailMessage:
    msg = EmailMessage()
    msg["From"] = "switchboard@example.test"
    msg["To"] = "finance@example.test, ops@example.test"
    msg["Subject"] = "Nightly export — done"
    msg.set_content("3 files delivered.\n")
    msg.add_attachment(b"a,b\n1,2\n", maintype="text", subtype="csv", filename="export.csv")
    return msg


def test_smtp_captures_envelope_and_content(smtp_server: SmtpServer) -> None:
    with smtplib.SMTP(smtp_server.host, smtp_server.port, timeout=5) as client:
        client.send_message(_mail())

    [mail] = smtp_server.wait_for(1)
    assert (mail.mail_from, mail.rcpt_tos) == (
        "switchboard@example.test",
        ["finance@example.test", "ops@example.test"],
    )
    assert (mail.subject, mail.text, mail.attachments) == (
        "Nightly export — done",
        "3 files delivered.\n",
        [("export.csv", b"a,b\n1,2\n")],
    )


def test_smtp_scripted_failure_then_success_and_stop(smtp_server: SmtpServer) -> None:
    smtp_server.fail_next("451 4.3.0 Try again later")
    with smtplib.SMTP(smtp_server.host, smtp_server.port, timeout=5) as client:
        with pytest.raises(smtplib.SMTPDataError) as err:
            client.send_message(_mail())
        assert err.value.smtp_code == 451
        client.send_message(_mail())
    assert len(smtp_server.messages) == 1

    smtp_server.stop()
    with pytest.raises(ConnectionRefusedError):
        smtplib.SMTP(smtp_server.host, smtp_server.port, timeout=2)


# -- HTTP webhook receiver ---------------------------------------------------------------------


def test_http_receiver_scripted_statuses_and_capture(http_receiver: HttpReceiver) -> None:
    http_receiver.respond_next(500, 503)
    statuses = [
        httpx.post(f"{http_receiver.url}/hook?n={i}", json={"i": i}, headers={"X-Sig": "abc"}).status_code
        for i in range(3)
    ]
    assert statuses == [500, 503, 200]
    last = http_receiver.wait_for(3)[2]
    assert (last.method, last.path, last.query, last.json(), last.header("x-sig")) == (
        "POST",
        "/hook",
        {"n": ["2"]},
        {"i": 2},
        "abc",
    )


def test_http_receiver_delay_times_out_and_stop_refuses(http_receiver: HttpReceiver) -> None:
    http_receiver.respond(200, delay=5)
    with pytest.raises(httpx.ReadTimeout):
        httpx.get(http_receiver.url, timeout=0.3)
    http_receiver.stop()
    with pytest.raises(httpx.ConnectError):
        httpx.get(http_receiver.url, timeout=1)


# -- Telegram Bot API --------------------------------------------------------------------------


def _tg(api: TelegramApi, method: str, token: str | None = None, **params: Any) -> httpx.Response:
    return httpx.post(f"{api.base_url}{token or api.token}/{method}", json=params, timeout=5)


def test_telegram_ptb_polls_replies_edits_and_downloads(telegram_api: TelegramApi) -> None:
    api = telegram_api

    async def on_text(update: Update, _: ContextTypes.DEFAULT_TYPE) -> None:
        assert update.message and update.message.text
        await update.message.reply_text(f"echo: {update.message.text}")

    async def on_start(update: Update, _: ContextTypes.DEFAULT_TYPE) -> None:
        assert update.message
        keyboard = InlineKeyboardMarkup([[InlineKeyboardButton("Approve", callback_data="ap:1")]])
        await update.message.reply_text("Approve?", reply_markup=keyboard)

    async def on_button(update: Update, _: ContextTypes.DEFAULT_TYPE) -> None:
        query = update.callback_query
        assert query
        await query.answer("ok")
        await query.edit_message_text(f"Approved by {query.from_user.first_name}")

    async def on_document(update: Update, _: ContextTypes.DEFAULT_TYPE) -> None:
        assert update.message and update.message.document
        data = await (await update.message.document.get_file()).download_as_bytearray()
        await update.message.reply_document(bytes(data).upper(), filename="back.csv")

    async def wait(method: str, count: int) -> None:
        await asyncio.to_thread(api.wait_for_call, method, count)

    async def scenario() -> None:
        app = (
            Application.builder()
            .token(api.token)
            .base_url(api.base_url)
            .base_file_url(api.base_file_url)
            .build()
        )
        app.add_handler(CommandHandler("start", on_start))
        app.add_handler(MessageHandler(filters.TEXT & ~filters.COMMAND, on_text))
        app.add_handler(CallbackQueryHandler(on_button))
        app.add_handler(MessageHandler(filters.Document.ALL, on_document))
        await app.initialize()
        await app.start()
        assert app.updater
        await app.updater.start_polling(timeout=1)
        try:
            api.push_update(api.text_update(42, "hello bot"))
            await wait("sendMessage", 1)
            api.push_update(api.text_update(42, "/start"))
            await wait("sendMessage", 2)
            api.push_update(api.callback_update(42, "ap:1"))
            await wait("editMessageText", 1)
            api.push_update(api.document_update(42, "orders.csv", b"sku,qty\na100x,2\n"))
            await wait("sendDocument", 1)
        finally:
            await app.updater.stop()
            await app.stop()
            await app.shutdown()

    run(scenario, timeout=20)
    keyboard = {"inline_keyboard": [[{"text": "Approve", "callback_data": "ap:1"}]]}
    assert api.sent_params("sendMessage") == [
        {"chat_id": 42, "text": "echo: hello bot"},
        {"chat_id": 42, "text": "Approve?", "reply_markup": keyboard},
    ]
    [answer] = api.sent_params("answerCallbackQuery")
    [edit] = api.sent_params("editMessageText")
    assert (answer["text"], edit["text"]) == ("ok", "Approved by User42")
    edited = api.state.messages[(42, edit["message_id"])]
    assert (edited["text"], edited["from"], "reply_markup" in edited) == (
        "Approved by User42",
        api.bot,
        False,
    )
    assert api.state.pending_callbacks == set()
    [doc] = api.sent_params("sendDocument")
    assert (doc["chat_id"], doc["document"].filename, doc["document"].content) == (
        42,
        "back.csv",
        b"SKU,QTY\nA100X,2\n",
    )
    assert [c.method for c in api.sent][:2] == ["getMe", "deleteWebhook"]


def test_telegram_errors_reach_ptb_as_typed_exceptions(
    telegram_api: TelegramApi, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PTB_TIMEDELTA", "1")  # opt in to PTB 23 semantics; silences its deprecation warning
    api = telegram_api
    api.fail_next("sendMessage", 429, "Too Many Requests: retry after 7", retry_after=7)
    api.block_chat(99)

    async def scenario() -> None:
        async with Bot(api.token, base_url=api.base_url) as bot:
            with pytest.raises(RetryAfter, match=r"Retry in (7 seconds|0:00:07)"):
                await bot.send_message(42, "hi")
            await bot.send_message(42, "hi again")
            with pytest.raises(Forbidden, match="bot was blocked by the user"):
                await bot.send_message(99, "hi")
            with pytest.raises(BadRequest, match="Message is too long"):
                await bot.send_message(42, "x" * 4097)
        with pytest.raises(InvalidToken):
            await Bot("1:wrong", base_url=api.base_url).get_me()

    run(scenario)
    assert [(c.method, c.error_code) for c in api.sent if c.method == "sendMessage"] == [
        ("sendMessage", 429),
        ("sendMessage", None),
        ("sendMessage", 403),
        ("sendMessage", 400),
    ]
    assert api.wait_for_call("sendMessage", 4)[0].params == {"chat_id": 42, "text": "hi"}


def test_telegram_raw_shapes_offsets_and_validation(telegram_api: TelegramApi) -> None:
    api = telegram_api
    assert _tg(api, "getMe", token="1:nope").json() == {
        "ok": False,
        "error_code": 401,
        "description": "Unauthorized",
    }
    assert _tg(api, "noSuchMethod").status_code == 404

    sent = _tg(api, "sendMessage", chat_id=42, text="hi").json()
    msg = sent["result"]
    assert sent == {
        "ok": True,
        "result": {
            "message_id": msg["message_id"],
            "from": api.bot,
            "chat": {"id": 42, "type": "private", "first_name": "User42"},
            "date": msg["date"],
            "text": "hi",
        },
    }
    not_modified = _tg(api, "editMessageText", chat_id=42, message_id=msg["message_id"], text="hi")
    assert (not_modified.status_code, not_modified.json()["description"]) == (400, NOT_MODIFIED)
    too_long = {"inline_keyboard": [[{"text": "x", "callback_data": "d" * 65}]]}
    assert _tg(api, "sendMessage", chat_id=42, text="x", reply_markup=too_long).json() == {
        "ok": False,
        "error_code": 400,
        "description": "Bad Request: BUTTON_DATA_INVALID",
    }

    ids = [api.push_update(api.text_update(7, f"m{i}"))["update_id"] for i in range(3)]
    first = _tg(api, "getUpdates", timeout=0).json()["result"]
    assert [u["message"]["text"] for u in first] == ["m0", "m1", "m2"]
    assert [u["update_id"] for u in _tg(api, "getUpdates", offset=ids[1], timeout=0).json()["result"]] == ids[
        1:
    ]
    assert _tg(api, "getUpdates", offset=ids[2] + 1, timeout=0).json() == {"ok": True, "result": []}
    assert _tg(api, "getUpdates", timeout=0).json()["result"] == []

    upload = httpx.post(
        f"{api.base_url}{api.token}/sendDocument",
        data={"chat_id": "42"},
        files={"document": ("r.csv", b"1,2\n", "text/csv")},
    ).json()["result"]["document"]
    path = _tg(api, "getFile", file_id=upload["file_id"]).json()["result"]["file_path"]
    assert httpx.get(f"{api.base_file_url}{api.token}/{path}").content == b"1,2\n"

    commands = [{"command": "runs", "description": "Recent runs"}]
    assert _tg(api, "setMyCommands", commands=commands).json() == {"ok": True, "result": True}
    assert _tg(api, "getMyCommands").json()["result"] == commands


def test_telegram_webhook_delivery_with_secret(
    telegram_api: TelegramApi, http_receiver: HttpReceiver
) -> None:
    api = telegram_api
    hook = f"{http_receiver.url}/tg"
    assert _tg(api, "setWebhook", url=hook, secret_token="s3cret").json()["result"] is True
    update = api.push_update(api.text_update(42, "via webhook"))
    [req] = http_receiver.wait_for(1)
    assert (req.path, req.json(), req.header("X-Telegram-Bot-Api-Secret-Token")) == ("/tg", update, "s3cret")
    assert _tg(api, "getWebhookInfo").json()["result"] == {
        "url": hook,
        "has_custom_certificate": False,
        "pending_update_count": 0,
        "max_connections": 40,
    }
    assert _tg(api, "getUpdates").status_code == 409
    assert _tg(api, "deleteWebhook").json()["result"] is True
    assert _tg(api, "getUpdates", timeout=0).json() == {"ok": True, "result": []}


# -- Ollama ------------------------------------------------------------------------------------

TOOL = {
    "type": "function",
    "function": {
        "name": "sales_by_region",
        "description": "Sales totals per region over a period.",
        "parameters": {
            "type": "object",
            "properties": {"region": {"type": "string"}},
            "required": ["region"],
        },
    },
}
MODEL = "qwen2.5:7b-instruct"


def test_ollama_client_gets_tool_call_and_request_is_recorded(ollama_api: OllamaApi) -> None:
    ollama_api.enqueue(tool_call("sales_by_region", region="emea"))
    messages = [{"role": "user", "content": "sales in europe"}]
    response = ollama.Client(host=ollama_api.url).chat(
        model=MODEL, messages=messages, tools=[TOOL], keep_alive="5m", options={"temperature": 0}
    )
    assert [(c.function.name, dict(c.function.arguments)) for c in response.message.tool_calls or []] == [
        ("sales_by_region", {"region": "emea"})
    ]
    assert (response.done, response.done_reason, response.model) == (True, "stop", MODEL)
    [body] = ollama_api.chat_requests
    assert (body["messages"], body["tools"], body["stream"], body["keep_alive"]) == (
        messages,
        [TOOL],
        False,
        "5m",
    )


def test_ollama_streaming_and_errors(ollama_api: OllamaApi) -> None:
    client = ollama.Client(host=ollama_api.url)
    ollama_api.enqueue(
        text("all good here"),
        HttpError(500, "llama runner process has terminated"),
        RawBody('{"model": "qwen'),
        Reply(content="partial ", stream_error="unexpected EOF"),
        Delay(5, text("too late")),
    )
    user = [{"role": "user", "content": "hi"}]
    chunks = list(client.chat(model=MODEL, messages=user, stream=True))
    assert ["".join(c.message.content or "" for c in chunks), [c.done for c in chunks][-2:]] == [
        "all good here",
        [False, True],
    ]
    with pytest.raises(ollama.ResponseError, match="llama runner process has terminated"):
        client.chat(model=MODEL, messages=user)
    with pytest.raises(ValueError):
        client.chat(model=MODEL, messages=user)
    with pytest.raises(ollama.ResponseError, match="unexpected EOF"):
        list(client.chat(model=MODEL, messages=user, stream=True))
    with pytest.raises(httpx.ReadTimeout):
        ollama.Client(host=ollama_api.url, timeout=0.3).chat(model=MODEL, messages=user)
    with pytest.raises(ollama.ResponseError, match='model "nope" not found') as err:
        client.chat(model="nope", messages=user)
    assert err.value.status_code == 404
    with pytest.raises(ollama.ResponseError, match="no scripted reply"):
        client.chat(model=MODEL, messages=user)


def test_ollama_tags_show_version(ollama_api: OllamaApi) -> None:
    client = ollama.Client(host=ollama_api.url)
    assert [m.model for m in client.list().models] == list(ollama_api.models)
    assert client.show(MODEL).capabilities == ["completion", "tools"]
    assert httpx.get(f"{ollama_api.url}/api/version").json() == {"version": ollama_api.version}
    with pytest.raises(ollama.ResponseError) as err:
        client.show("missing:1b")
    assert err.value.status_code == 404
