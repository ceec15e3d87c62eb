from tests.telegram.conftest import ADMIN

async def test_start(bot, botapi):
    botapi.push_message(100, "/start")
    calls = await botapi.wait_for("sendMessage", chat_id=100)
    print(botapi.texts(100))
    print([c.method for c in botapi.calls])
    print(botapi.commands)
