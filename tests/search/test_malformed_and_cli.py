"""Malformed queries are explained, never a traceback; the command line prints results."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from storage.search import QueryError, Searcher, parse_query
from tests.search.conftest import World


@pytest.mark.parametrize(("query", "position", "words"), [
    ('invoice "send the', 8, "closing quote"),
    ("before:2026-13-01", 7, "not a real date"),
    ("after:yesterdayish", 6, "YYYY-MM-DD"),
    ("refund from:robot", 7, "client, operator or note"),
    ("status:sleeping", 0, "status:"),
    ("channel:", 0, "needs a value"),
    ("@", 0, "needs a value"),
    ("after:2026-11-02 before:2026-11-01", 0, "earlier"),
    ("#1 #2", 3, "one task number"),
    ("x" * 600, 500, "too long"),
])
def test_malformed_queries_raise_query_error_with_a_position(
        query: str, position: int, words: str) -> None:
    with pytest.raises(QueryError) as err:
        parse_query(query)
    assert err.value.position == position
    assert words in str(err.value)


def test_unknown_names_are_query_errors_on_both_backends(world: World) -> None:
    for query in ("refund channel:nosuch", "refund @nobody"):
        with pytest.raises(QueryError):
            Searcher(world.store).search(query)


def test_query_syntax_of_the_engines_is_inert(world: World) -> None:
    """Whatever a user types reaches FTS5/tsquery only as quoted words."""
    s = Searcher(world.store)
    for query in ('invoice OR refund', "NEAR(a b)", "a:* & !b | c <-> d", "'; DROP TABLE x; --",
                  "col:val", "*", "\\", "^invoice", "invoice*", "((", ")", "AND", "NOT"):
        s.search(query)  # no exception
    assert len(s.search("invoice OR refund").hits) == 0  # OR is a word here, not an operator
    assert len(s.search("invoice*").hits) == 3


def test_snippet_keeps_markup_and_escapes_literally(world: World) -> None:
    store = world.store
    text = "[bold red]invoice[/] \x1b[31mred\x1b]8;;http://x\x07 done"
    store.note(world.ivan_task, world.anna, text)
    hit = next(h for h in Searcher(store).search("invoice bold").hits)
    assert hit.snippet == text  # storage returns the raw text; the widget makes it visible
    assert [hit.snippet[a:b] for a, b in hit.highlights] == ["bold", "invoice"]


def _config(tmp_path: Path, db: str) -> Path:
    path = tmp_path / "config.yaml"
    path.write_text(f"operator: {{name: Anna, role: operator}}\ndatabase: {json.dumps(db)}\n",
                    encoding="utf-8")
    path.chmod(0o600)
    return path


def test_cli_json_and_text(world: World, store_url: str, tmp_path: Path,
                           capsys: pytest.CaptureFixture[str]) -> None:
    from console.cli import main

    config = _config(tmp_path, store_url)
    assert main(["--config", str(config), "search", "СЧЁТ", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert [h["snippet"] for h in out["hits"]] == ["Мне нужен СЧЁТ на оплату"]
    assert out["tasks"][0]["id"] == world.olga_task
    assert main(["--config", str(config), "search", "inv", "447", "--newest"]) == 0
    text = capsys.readouterr().out
    assert "Please send invoice 4471 for October" in text


def test_cli_malformed_query_exits_2_with_a_caret(world: World, store_url: str, tmp_path: Path,
                                                  capsys: pytest.CaptureFixture[str]) -> None:
    from console.cli import main

    config = _config(tmp_path, store_url)
    assert main(["--config", str(config), "search", 'refund "oops']) == 2
    err = capsys.readouterr().err
    assert "closing quote" in err and "       ^" in err and "Traceback" not in err
