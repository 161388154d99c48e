"""ui.mcp_server driven by the official MCP client over stdio and streamable HTTP."""

from __future__ import annotations

import asyncio
import os
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx2
import pytest
from mcp.client.session import ClientSession
from mcp.client.stdio import StdioServerParameters, stdio_client
from mcp.client.streamable_http import streamable_http_client

from rag import Assistant, Settings
from tests.fakes import write_articles
from tests.servers import serving

ROOT = Path(__file__).resolve().parents[1]
KEY = "test-key"


def _settings(data: Path) -> Settings:
    return Settings(data_dir=data, embedding_backend="hashing", rerank=False)


@pytest.fixture
def data_dir(tmp_path: Path) -> Path:
    data = tmp_path / "data"
    corpus = tmp_path / "corpus"
    write_articles(corpus, 3)
    # Distinct topics, so even the rough hashing embedder ranks the right article first.
    (corpus / "volcano.txt").write_text(
        "Volcano erupts near Reykjavik\n\nA volcano on the Reykjanes peninsula erupted on Tuesday night. "
        "Lava fountains reached 80 metres and 3,000 residents of Grindavik were evacuated.\n", encoding="utf-8")
    Assistant(_settings(data)).ingest([corpus], progress=False)
    return data


def _structured(result: Any) -> dict[str, Any]:
    assert not result.is_error, result.content
    out = result.structured_content
    return out.get("result", out) if "result" in out and len(out) == 1 else out


async def _exercise(session: ClientSession) -> None:
    await session.initialize()
    names = {t.name for t in (await session.list_tools()).tools}
    assert {"search", "fetch", "ask"} <= names
    found = _structured(await session.call_tool("search", {"query": "volcano eruption lava Reykjanes", "limit": 3}))
    results = found["results"]
    assert results and len({r["id"] for r in results}) == len(results) <= 3
    assert results[0]["id"] == "volcano.txt"
    assert all(r["url"].startswith("newsrag://") and r["snippet"] and r["title"] for r in results)
    art = _structured(await session.call_tool("fetch", {"id": "volcano.txt"}))
    assert "Grindavik" in art["text"] and art["id"] == "volcano.txt" and art["title"]
    ans = _structured(await session.call_tool("ask", {"question": "How many residents of Grindavik were evacuated?"}))
    assert set(ans) >= {"text", "direct", "citations", "abstained"}
    assert not ans["abstained"], ans
    assert ans["citations"] and all(c["quote"] and c["source"] for c in ans["citations"])
    assert "volcano.txt" in {c["source"] for c in ans["citations"]} and "3,000" in ans["text"]
    missing = await session.call_tool("fetch", {"id": "nope.txt"})
    assert missing.is_error and "no such article" in missing.content[0].text


def test_stdio(data_dir: Path) -> None:
    """`newsrag mcp`, as a desktop assistant starts it."""
    env = {**os.environ, "PYTHONPATH": str(ROOT), "NEWSRAG_DATA_DIR": str(data_dir),
           "NEWSRAG_EMBEDDING_BACKEND": "hashing", "NEWSRAG_RERANK": "false"}
    params = StdioServerParameters(command=sys.executable, args=["-m", "ui.cli", "mcp"], env=env, cwd=str(ROOT))

    async def run() -> None:
        async with stdio_client(params) as streams:
            async with ClientSession(streams[0], streams[1]) as session:
                await _exercise(session)

    asyncio.run(asyncio.wait_for(run(), 120))


@pytest.fixture
def http_url(data_dir: Path) -> Iterator[str]:
    """The /mcp mount of `newsrag serve`'s own app (the API key guards it)."""
    from ui.server import create_app

    with serving(create_app(Assistant(_settings(data_dir).with_values(api_key=KEY)))) as url:
        yield url + "/mcp/"


def test_http(http_url: str) -> None:
    async def run() -> None:
        async with httpx2.AsyncClient(headers={"Authorization": f"Bearer {KEY}"}, timeout=60) as client:
            async with streamable_http_client(http_url, http_client=client) as streams:
                async with ClientSession(streams[0], streams[1]) as session:
                    await _exercise(session)

    asyncio.run(asyncio.wait_for(run(), 120))


def test_http_needs_key(http_url: str) -> None:
    body = {"jsonrpc": "2.0", "id": 1, "method": "tools/list"}
    for headers in ({}, {"Authorization": "Bearer wrong"}):
        response = httpx2.post(http_url, json=body, headers=headers)
        assert response.status_code == 401
