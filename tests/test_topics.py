"""Followed topics and digests (#35 item 2): "what is new on this story since I last looked".

On a copy of the dated corpus, with the hashing embedder and the lexical fake cross-encoder (so
the briefing's relevance cut is real: an article about the flood wall is not about the rail link).
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from rag.assistant import Assistant
from rag.errors import InvalidRequest, NotFound
from rag.settings import Settings
from tests.fakes import FakeCrossEncoder

ROOT = Path(__file__).resolve().parents[1]
DATED = ROOT / "evals" / "corpora" / "dated"
FIXTURES = ROOT / "tests" / "data" / "topics"
NEW_ARTICLE = FIXTURES / "rail-link-approved.md"
RAIL = "Vale Line rail link"


def topic_settings(tmp_path: Path) -> Settings:
    return Settings(data_dir=tmp_path / "data", corpus_dir=tmp_path / "corpus", embedding_backend="hashing", reader=False)


@pytest.fixture
def dated(tmp_path: Path) -> Assistant:
    shutil.copytree(DATED, tmp_path / "corpus")
    a = Assistant(topic_settings(tmp_path), reranker=FakeCrossEncoder())
    a.ingest(progress=False)
    return a


def _sources(digest: dict, topic: str = RAIL) -> list[str]:
    found = [t for t in digest["topics"] if t["topic"] == topic]
    assert len(found) == 1, digest
    return [item["source"] for item in found[0]["items"]]


def test_done_when_a_new_rail_link_article_is_the_digest_and_a_second_digest_is_empty(dated, tmp_path):
    followed = dated.follow(RAIL)
    assert followed["topic"] == RAIL and followed["new"] == 0 and followed["followed_at"]
    assert _sources(dated.digest()) == []  # what was there before is seen
    landed = tmp_path / "corpus" / NEW_ARTICLE.name
    shutil.copy(NEW_ARTICLE, landed)
    dated.ingest(progress=False)
    assert dated.following()[0]["new"] == 1
    digest = dated.digest()
    assert _sources(digest) == [NEW_ARTICLE.name]  # not rail-link-announced.html nor the revision
    item = digest["topics"][0]["items"][0]
    assert item["published"] == "2025-07-14" and item["title"].startswith("Government approves")
    text = (tmp_path / "corpus" / NEW_ARTICLE.name).read_text(encoding="utf-8")
    assert item["sentences"] and all(s["text"] in text for s in item["sentences"])  # verbatim, cited
    assert _sources(dated.digest()) == []
    row = dated.following()[0]
    assert row["new"] == 0 and row["last_digest"]


def test_a_new_article_about_something_else_is_not_in_the_digest_and_is_seen_after_it(dated, tmp_path):
    dated.follow(RAIL)
    other = tmp_path / "corpus" / "zoo-opens.txt"
    other.write_text("Riverton zoo opens a penguin house\n\nThe Riverton zoo opened a new penguin house on "
                     "Saturday, with twelve birds from a sanctuary in Cornwall.\n", encoding="utf-8")
    dated.ingest(progress=False)
    assert dated.following()[0]["new"] == 0
    assert _sources(dated.digest()) == []
    # Followed after it landed: it is seen; a later topic about the zoo starts from now too.
    assert dated.follow("Riverton zoo")["new"] == 0
    assert _sources(dated.digest("riverton  ZOO"), "Riverton zoo") == []


def test_a_revision_is_new_an_unchanged_reingest_and_a_rebuild_are_not(dated, tmp_path):
    dated.follow(RAIL)
    dated.ingest(progress=False)  # the same files again
    dated.ingest(rebuild=True, progress=False)
    assert _sources(dated.digest()) == []
    revised = tmp_path / "corpus" / "rail-link-cost-revised.md"
    revised.write_text(revised.read_text(encoding="utf-8").replace(
        "The business case will be sent to the government in June.",
        "The business case will be sent to the government in July, a month later than planned."),
        encoding="utf-8")
    dated.ingest(progress=False)
    assert _sources(dated.digest()) == ["rail-link-cost-revised.md"]


def test_topics_survive_a_rebuild_and_another_process_sees_them(dated, tmp_path):
    dated.follow(RAIL)
    dated.ingest(rebuild=True, progress=False)
    other = Assistant(topic_settings(tmp_path), reranker=FakeCrossEncoder())  # as the CLI beside a server
    assert [row["topic"] for row in other.following()] == [RAIL]
    shutil.copy(NEW_ARTICLE, tmp_path / "corpus" / NEW_ARTICLE.name)
    other.ingest(progress=False)
    assert _sources(dated.digest()) == [NEW_ARTICLE.name]
    assert _sources(other.digest()) == []  # the marks are shared: one digest saw it
    stored = json.loads((tmp_path / "data" / "topics.json").read_text(encoding="utf-8"))
    assert list(stored["topics"]) == ["vale line rail link"]


def test_topic_names_compare_case_and_space_insensitively_and_follow_is_idempotent(dated):
    first = dated.follow(RAIL)
    again = dated.follow("  vale line   RAIL link ")
    assert again == first
    assert [row["topic"] for row in dated.following()] == [RAIL]
    assert dated.unfollow("VALE LINE RAIL LINK") == {"topic": RAIL}
    assert dated.following() == []


@pytest.mark.parametrize("topic", ["", "   ", "x" * 1001])
def test_an_empty_or_overlong_topic_is_an_invalid_request(dated, topic):
    with pytest.raises(InvalidRequest):
        dated.follow(topic)


def test_unfollowing_or_digesting_an_unknown_topic_is_not_found(dated):
    with pytest.raises(NotFound):
        dated.unfollow("Riverton zoo")
    with pytest.raises(NotFound):
        dated.digest("Riverton zoo")


# ------------------------------------------------------------------ the CLI
def test_cli_follow_digest_following_unfollow_and_one_line_errors(tmp_path, monkeypatch, capsys):
    """Through `newsrag` itself: hashing embedder, no cross-encoder (every new article is then a match)."""
    from ui.cli import main

    shutil.copytree(DATED, tmp_path / "corpus")
    monkeypatch.setenv("NEWSRAG_EMBEDDING_BACKEND", "hashing")
    monkeypatch.setenv("NEWSRAG_RERANK", "false")
    assert main(["ingest", "--json"]) == 0
    assert main(["follow", RAIL, "--json"]) == 0
    capsys.readouterr()
    assert main(["digest"]) == 0
    assert capsys.readouterr().out.strip() == f"{RAIL}: nothing new"
    shutil.copy(NEW_ARTICLE, tmp_path / "corpus" / NEW_ARTICLE.name)
    assert main(["ingest", "--json"]) == 0
    capsys.readouterr()
    assert main(["following", "--json"]) == 0
    assert [(r["topic"], r["new"]) for r in json.loads(capsys.readouterr().out)] == [(RAIL, 1)]
    assert main(["digest"]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[0] == f"{RAIL}: 1 new story"
    assert out[1].startswith("- 14 July 2025 · Government approves Vale Line rail link business case: ")
    assert out[-1].endswith(NEW_ARTICLE.name)
    assert main(["digest", "--json"]) == 0
    assert json.loads(capsys.readouterr().out) == {"topics": [{"topic": RAIL, "items": []}]}
    assert main(["unfollow", "vale line RAIL link"]) == 0
    assert main(["unfollow", RAIL]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("newsrag: not following")
    assert main(["follow", "  "]) == 2
    assert "the topic is empty" in capsys.readouterr().err


# ------------------------------------------------------------------ the /v1 API
def test_api_topics_and_digest_do_the_same(dated, tmp_path):
    from fastapi.testclient import TestClient

    from ui.server import create_app

    with TestClient(create_app(dated), raise_server_exceptions=False) as http:
        followed = http.post("/v1/topics", json={"topic": RAIL})
        assert followed.status_code == 200 and followed.json()["topic"] == RAIL and followed.json()["new"] == 0
        assert http.get("/v1/digest").json() == {"topics": [{"topic": RAIL, "items": []}]}
        shutil.copy(NEW_ARTICLE, tmp_path / "corpus" / NEW_ARTICLE.name)
        dated.ingest(progress=False)
        rows = http.get("/v1/topics").json()["data"]
        assert [(r["topic"], r["new"], r["last_digest"] is not None) for r in rows] == [(RAIL, 1, True)]
        assert _sources(http.get("/v1/digest", params={"topic": "vale line rail LINK"}).json()) == [NEW_ARTICLE.name]
        assert _sources(http.get("/v1/digest").json()) == []
        for bad, status, kind in ((http.post("/v1/topics", json={"topic": " "}), 400, "invalid_request_error"),
                                  (http.post("/v1/topics", json={}), 400, None),
                                  (http.get("/v1/digest", params={"topic": "Riverton zoo"}), 404, "not_found_error"),
                                  (http.delete("/v1/topics/Riverton%20zoo"), 404, "not_found_error")):
            assert bad.status_code == status, bad.text
            error = bad.json()["error"]  # the same shape as every /v1 error
            assert error["message"] and (kind is None or error["type"] == kind)
        assert http.delete("/v1/topics/Vale%20Line%20rail%20link").json() == {"topic": RAIL}
        assert http.get("/v1/topics").json()["data"] == []


# ------------------------------------------------------------------ MCP
def test_mcp_whats_new_lists_the_new_story_once(dated, tmp_path):
    """`newsrag mcp` over stdio, in its own process, on the index and topics the fixture made."""
    import asyncio
    import os
    import sys

    from mcp.client.session import ClientSession
    from mcp.client.stdio import StdioServerParameters, stdio_client

    dated.follow(RAIL)
    shutil.copy(NEW_ARTICLE, tmp_path / "corpus" / NEW_ARTICLE.name)
    dated.ingest(progress=False)
    env = {**os.environ, "PYTHONPATH": str(ROOT), "NEWSRAG_DATA_DIR": str(tmp_path / "data"),
           "NEWSRAG_EMBEDDING_BACKEND": "hashing", "NEWSRAG_RERANK": "false"}
    params = StdioServerParameters(command=sys.executable, args=["-m", "ui.cli", "mcp"], env=env, cwd=str(ROOT))
    calls: list[dict] = []

    async def run() -> None:
        async with stdio_client(params) as streams:
            async with ClientSession(streams[0], streams[1]) as session:
                await session.initialize()
                assert "whats_new" in {t.name for t in (await session.list_tools()).tools}
                for _ in range(2):
                    result = await session.call_tool("whats_new", {})
                    assert not result.is_error, result.content
                    calls.append(result.structured_content)
                unknown = await session.call_tool("whats_new", {"topic": "Riverton zoo"})
                assert unknown.is_error and "not following" in unknown.content[0].text

    asyncio.run(asyncio.wait_for(run(), 120))
    first, second = (c.get("result", c) for c in calls)
    assert _sources(first) == [NEW_ARTICLE.name] and _sources(second) == []
    assert first["topics"][0]["items"][0]["url"] == f"newsrag://{NEW_ARTICLE.name}"


# ------------------------------------------------------------------ serve --watch
def test_a_file_that_lands_in_a_watched_folder_shows_up_in_the_next_digest(tmp_path):
    """What `serve --watch` runs beside the server: ui.watch.watch on a thread, the same Assistant."""
    import threading
    import time

    from ui.watch import watch

    folder = tmp_path / "corpus"
    shutil.copytree(DATED, folder)
    a = Assistant(topic_settings(tmp_path), reranker=FakeCrossEncoder())
    lines: list[str] = []
    stop = threading.Event()
    thread = threading.Thread(target=watch, args=(a, [folder]),
                              kwargs={"debounce_s": 0.5, "on_line": lines.append, "stop": stop}, daemon=True)
    thread.start()

    def until(cond) -> None:
        end = time.monotonic() + 60
        while not cond():
            assert time.monotonic() < end, lines
            time.sleep(0.1)

    try:
        until(lambda: any(line.startswith("watching") for line in lines))
        a.follow(RAIL)
        shutil.copy(NEW_ARTICLE, folder / NEW_ARTICLE.name)
        until(lambda: f"added {NEW_ARTICLE.name}" in lines)
        assert _sources(a.digest()) == [NEW_ARTICLE.name]
        assert _sources(a.digest()) == []
    finally:
        stop.set()
        thread.join(timeout=10)


# ------------------------------------------------------------------ the store
def test_processes_following_at_once_lose_no_topic(dated, tmp_path):
    """Read, change and replace run under the file lock: concurrent writers (here two Assistants,
    as the CLI beside a server, on threads) do not overwrite each other's topics."""
    import threading

    other = Assistant(topic_settings(tmp_path), reranker=FakeCrossEncoder())
    names = [f"topic {i}" for i in range(16)]
    threads = [threading.Thread(target=(dated if i % 2 else other).follow, args=(name,)) for i, name in enumerate(names)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(row["topic"] for row in dated.following()) == sorted(names)


def test_an_unreadable_topics_file_is_one_line_naming_it(dated, tmp_path):
    from rag.errors import present

    (tmp_path / "data" / "topics.json").write_text("{not json", encoding="utf-8")
    with pytest.raises(Exception) as caught:
        dated.follow(RAIL)
    shown = present(caught.value)
    assert shown.exit_code == 2 and "topics.json" in shown.message and "\n" not in shown.message


@pytest.mark.slow
def test_done_when_with_the_real_models(tmp_path, onnx_embedder, cross_encoder):
    """The same story with the shipped embedder and cross-encoder: their relevance cut, not the fake's."""
    shutil.copytree(DATED, tmp_path / "corpus")
    a = Assistant(Settings(data_dir=tmp_path / "data", corpus_dir=tmp_path / "corpus"),
                  embedder=onnx_embedder, reranker=cross_encoder)
    a.ingest(progress=False)
    a.follow(RAIL)
    (tmp_path / "corpus" / "zoo-opens.txt").write_text(
        "Riverton zoo opens a penguin house\n\nThe Riverton zoo opened a new penguin house on Saturday, "
        "with twelve birds from a sanctuary in Cornwall.\n", encoding="utf-8")
    shutil.copy(NEW_ARTICLE, tmp_path / "corpus" / NEW_ARTICLE.name)
    a.ingest(progress=False)
    assert a.following()[0]["new"] == 1
    assert _sources(a.digest()) == [NEW_ARTICLE.name]
    assert _sources(a.digest()) == []


def test_a_wire_copy_of_a_story_already_seen_is_not_new(tmp_path):
    """flood-wall-gazette.html is the Vale Press Agency story flood-wall-echo.html printed by another outlet."""
    shutil.copytree(DATED, tmp_path / "corpus")
    held_back = tmp_path / "flood-wall-gazette.html"
    shutil.move(tmp_path / "corpus" / "flood-wall-gazette.html", held_back)
    a = Assistant(topic_settings(tmp_path), reranker=FakeCrossEncoder())
    a.ingest(progress=False)
    a.follow("flood wall")
    shutil.move(held_back, tmp_path / "corpus" / "flood-wall-gazette.html")
    a.ingest(progress=False)
    docs = {d["source"]: d for d in a.documents()}
    assert "flood-wall-gazette.html" in docs  # indexed, and grouped with the copy already seen
    assert a.following()[0]["new"] == 0
    assert _sources(a.digest(), "flood wall") == []
