"""The shortest path through a node: create a session and read it back."""

from conftest import connect


async def test_create_then_restore(start_node):
    node = await start_node()
    async with connect(node) as client:
        created = await client.request("create_session", client_id="alice")
        restored = await client.request("restore_session", session_id=created["session_id"])
    assert restored["client_id"] == "alice"
    assert restored["session_state"] is None
