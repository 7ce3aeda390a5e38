"""Helpers of the knowledge base tests: write an article through the API and read search results."""

import uuid

KB = "/api/v1/kb"


async def write(api, headers, **body) -> dict:
    resp = await api.post(f"{KB}/articles", json={"title": "Artikel", "body": "Text"} | body, headers=headers)
    assert resp.status_code == 201, resp.text
    return resp.json()


async def found(api, headers, q, **params) -> list[str]:
    """Titles of the search hits, best first."""
    resp = await api.get(f"{KB}/search", params={"q": q} | params, headers=headers)
    assert resp.status_code == 200, resp.text
    return [hit["article"]["title"] for hit in resp.json()["items"]]


def word() -> str:
    """A word no other test's article contains (the database is shared by the session's tests)."""
    return "w" + uuid.uuid4().hex[:10]
