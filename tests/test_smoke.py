from tests.conftest import sign_in


async def test_staff_sign_in_and_home(client, world):
    from coprod.models import Role

    org = await world.org()
    await world.user(org, "lead@trust.example", Role.INVOLVEMENT_LEAD)
    await sign_in(client, "lead@trust.example")
    home = await client.get("/")
    assert "Northshire NHS Trust" in home.text
