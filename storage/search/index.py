"""The full-text index on both backends: its schema, its triggers, (re)building it.

SQLite: three FTS5 tables (messages, contacts, tasks) with *external content*: the
content is a view that computes each document (message text plus attachment names;
a contact's name, phones, e-mails and channel identities; a task's number, title,
description and additional data), so the text is stored once. Triggers keep the
index right: every change to something a document is made of deletes the old
document from the index (BEFORE the change, while the view still shows it) and adds
the new one (AFTER). The tokenizer is ``unicode61`` (case folding for Cyrillic and
Latin, diacritics removed for Latin); it does not fold ё to е, so the view does.

PostgreSQL: three side tables holding a ``tsvector`` ('simple' configuration on
folded text, ASCII punctuation turned into spaces so ``inv-4471`` is two words as in
SQLite) with GIN indexes, kept by AFTER triggers that recompute the row's vector.

Ownership (which task a message is in, who is assigned) is never copied into the
index: searches join the live tables, so a task merge or reassignment is right at once.
"""

from __future__ import annotations

from collections.abc import Callable

import peewee as pw

Progress = Callable[[str, int, int], None]
BATCH = 20_000
TOKENIZER = "unicode61 remove_diacritics 2"
ENTITIES = ("message", "contact", "task")
# FTS5 merges its index segments as they are written: with its default (4 segments on
# a level), a stream of small commits (a webhook's group commit holds a few messages)
# set off merges that made one commit in a hundred take 100–600 ms on the 1M-message
# database; at 8, the merges are fewer and the p99 of a webhook at 600/s held 25–32 ms
# (bench/PROFILE.md §10). A search reads at most a few more segments.
AUTOMERGE = 8


def _label(entity: str) -> str:
    from storage.i18n import _

    return {"message": _("Indexing messages for search"),
            "contact": _("Indexing contacts for search"),
            "task": _("Indexing tasks for search")}[entity]


# ---- SQLite ------------------------------------------------------------------------------
def _s_fold(expr: str) -> str:
    return f"replace(replace({expr}, 'ё', 'е'), 'Ё', 'Е')"


def _s_digits(expr: str) -> str:
    for ch in (" ", "-", "(", ")", "+", ".", "/"):
        expr = f"replace({expr}, '{ch}', '')"
    return expr


def _s_phone(expr: str) -> str:
    d = _s_digits(expr)
    return f"{expr} || ' ' || {d} || ' ' || substr({d}, -10)"


SQLITE_VIEWS = {
    "message": f"""
        SELECT m.id AS id, {_s_fold(
            "m.text || coalesce(' ' || (SELECT group_concat(x.name, ' ') FROM "
            "(SELECT a.name AS name FROM attachment a WHERE a.message_id = m.id ORDER BY a.id) x), '')")}
            AS body
        FROM message m WHERE m.kind <> 'event'""",
    "contact": f"""
        SELECT c.id AS id, {_s_fold(
            "c.name || ' ' || c.phones || ' ' || " + _s_digits("c.phones") + " || ' ' || c.emails"
            " || ' ' || coalesce((SELECT group_concat(x.doc, ' ') FROM (SELECT i.display_name"
            " || ' ' || i.username || ' ' || i.external_id || ' ' || " + _s_phone("i.phone") +
            " AS doc FROM identity i WHERE i.contact_id = c.id ORDER BY i.id) x), '')")} AS body
        FROM contact c WHERE c.merged_into_id IS NULL""",
    "task": f"""
        SELECT t.id AS id, {_s_fold(
            "coalesce(t.number, '') || ' ' || t.title || ' ' || t.description"
            " || ' ' || t.additional_data")} AS body
        FROM task t""",
}


def _del(entity: str, id_expr: str, extra: str = "") -> str:
    return (f"INSERT INTO search_{entity}_fts(search_{entity}_fts, rowid, body) "
            f"SELECT 'delete', id, body FROM search_{entity}_doc WHERE id = {id_expr}{extra};")


def _ins(entity: str, id_expr: str, extra: str = "") -> str:
    return (f"INSERT INTO search_{entity}_fts(rowid, body) "
            f"SELECT id, body FROM search_{entity}_doc WHERE id = {id_expr}{extra};")


def _changed(cols: tuple[str, ...]) -> str:
    return " OR ".join(f"old.{c} IS NOT new.{c}" for c in cols)


def _sqlite_triggers() -> dict[str, str]:
    """name → CREATE TRIGGER statement. BEFORE removes the old document, AFTER adds the new."""
    t: dict[str, str] = {}

    def pair(name: str, table: str, event: str, before: str, after: str, when: str = "") -> None:
        cond = f" WHEN {when}" if when else ""
        t[f"sb_{name}_b"] = (f"CREATE TRIGGER sb_{name}_b BEFORE {event} ON {table}"
                             f" FOR EACH ROW{cond} BEGIN {before} END")
        t[f"sb_{name}_a"] = (f"CREATE TRIGGER sb_{name}_a AFTER {event} ON {table}"
                             f" FOR EACH ROW{cond} BEGIN {after} END")

    # messages
    t["sb_msg_ins"] = (f"CREATE TRIGGER sb_msg_ins AFTER INSERT ON message FOR EACH ROW "
                       f"BEGIN {_ins('message', 'new.id')} END")
    pair("msg_upd", "message", "UPDATE", _del("message", "old.id"), _ins("message", "new.id"),
         _changed(("id", "text", "kind")))
    t["sb_msg_del"] = (f"CREATE TRIGGER sb_msg_del BEFORE DELETE ON message FOR EACH ROW "
                       f"BEGIN {_del('message', 'old.id')} END")
    pair("att_ins", "attachment", "INSERT", _del("message", "new.message_id"),
         _ins("message", "new.message_id"))
    pair("att_del", "attachment", "DELETE", _del("message", "old.message_id"),
         _ins("message", "old.message_id"))
    moved = " AND new.message_id IS NOT old.message_id"
    pair("att_upd", "attachment", "UPDATE",
         _del("message", "old.message_id") + _del("message", "new.message_id", moved),
         _ins("message", "old.message_id") + _ins("message", "new.message_id", moved),
         _changed(("message_id", "name")))
    # contacts (and the identities that are part of a contact's document)
    t["sb_con_ins"] = (f"CREATE TRIGGER sb_con_ins AFTER INSERT ON contact FOR EACH ROW "
                       f"BEGIN {_ins('contact', 'new.id')} END")
    pair("con_upd", "contact", "UPDATE", _del("contact", "old.id"), _ins("contact", "new.id"),
         _changed(("id", "name", "phones", "emails", "merged_into_id")))
    t["sb_con_del"] = (f"CREATE TRIGGER sb_con_del BEFORE DELETE ON contact FOR EACH ROW "
                       f"BEGIN {_del('contact', 'old.id')} END")
    pair("idn_ins", "identity", "INSERT", _del("contact", "new.contact_id"),
         _ins("contact", "new.contact_id"))
    pair("idn_del", "identity", "DELETE", _del("contact", "old.contact_id"),
         _ins("contact", "old.contact_id"))
    moved = " AND new.contact_id IS NOT old.contact_id"
    pair("idn_upd", "identity", "UPDATE",
         _del("contact", "old.contact_id") + _del("contact", "new.contact_id", moved),
         _ins("contact", "old.contact_id") + _ins("contact", "new.contact_id", moved),
         _changed(("contact_id", "display_name", "username", "external_id", "phone")))
    # tasks
    t["sb_task_ins"] = (f"CREATE TRIGGER sb_task_ins AFTER INSERT ON task FOR EACH ROW "
                        f"BEGIN {_ins('task', 'new.id')} END")
    pair("task_upd", "task", "UPDATE", _del("task", "old.id"), _ins("task", "new.id"),
         _changed(("id", "number", "title", "description", "additional_data")))
    t["sb_task_del"] = (f"CREATE TRIGGER sb_task_del BEFORE DELETE ON task FOR EACH ROW "
                        f"BEGIN {_del('task', 'old.id')} END")
    return t


SQLITE_TRIGGERS = _sqlite_triggers()


def sqlite_uninstall(db: pw.Database) -> None:
    """Drop every search object (triggers first: nothing may write to a dropped table)."""
    for name in SQLITE_TRIGGERS:
        db.execute_sql(f"DROP TRIGGER IF EXISTS {name}")
    for entity in ENTITIES:
        db.execute_sql(f"DROP TABLE IF EXISTS search_{entity}_fts")
        db.execute_sql(f"DROP VIEW IF EXISTS search_{entity}_doc")


def sqlite_install(db: pw.Database, progress: Progress) -> None:
    """Create the views, FTS tables and triggers, and index every existing row."""
    sqlite_uninstall(db)
    for entity in ENTITIES:
        db.execute_sql(f"CREATE VIEW search_{entity}_doc AS {SQLITE_VIEWS[entity]}")
        db.execute_sql(
            f"CREATE VIRTUAL TABLE search_{entity}_fts USING fts5(body, "
            f"content='search_{entity}_doc', content_rowid='id', tokenize='{TOKENIZER}')")
    for entity in ENTITIES:
        _fill(db, entity, f"INSERT INTO search_{entity}_fts(rowid, body) SELECT id, body "
                          f"FROM search_{entity}_doc WHERE id > ? AND id <= ?", progress)
        db.execute_sql(f"INSERT INTO search_{entity}_fts(search_{entity}_fts) VALUES('optimize')")
    sqlite_tune(db)
    for sql in SQLITE_TRIGGERS.values():
        db.execute_sql(sql)


def sqlite_tune(db: pw.Database) -> None:
    """Set the FTS5 tables' merge policy (kept in the tables' own config; idempotent)."""
    for entity in ENTITIES:
        table = f"search_{entity}_fts"
        db.execute_sql(f"INSERT INTO {table}({table}, rank) VALUES('automerge', {AUTOMERGE})")


def _fill(db: pw.Database, entity: str, sql: str, progress: Progress) -> None:
    """Index rows in id batches, reporting progress (a big database takes a while)."""
    p = db.param
    low, high, total = db.execute_sql(
        f'SELECT min(id), max(id), count(*) FROM "{entity}"').fetchone()
    label = _label(entity)
    progress(label, 0, total or 0)
    if not total:
        return
    done = 0
    start = low - 1
    while start < high:
        end = start + BATCH
        db.execute_sql(sql, (start, end))
        done += db.execute_sql(f'SELECT count(*) FROM "{entity}" WHERE id > {p} AND id <= {p}',
                               (start, end)).fetchone()[0] if total > BATCH else total
        progress(label, min(done, total), total)
        start = end


# ---- PostgreSQL --------------------------------------------------------------------------
# ASCII punctuation becomes a space so PostgreSQL's parser sees the same words as
# SQLite's unicode61 (it would otherwise keep "foo.bar", "-4471", e-mails as one word).
_PUNCT = "!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~"
_PUNCT_SQL = _PUNCT.replace("'", "''")
MAX_DOC = 200_000  # a tsvector is at most 1 MB: index the head of a huge message

PG_FUNCTIONS = f"""
CREATE OR REPLACE FUNCTION sb_fold(x text) RETURNS text LANGUAGE sql IMMUTABLE AS $f$
  SELECT translate(lower(left(x, {MAX_DOC})), 'ё{_PUNCT_SQL}', 'е{' ' * len(_PUNCT)}')
$f$;
CREATE OR REPLACE FUNCTION sb_digits(x text) RETURNS text LANGUAGE sql IMMUTABLE AS $f$
  SELECT regexp_replace(x, '[^0-9]', '', 'g')
$f$;
CREATE OR REPLACE FUNCTION sb_phone(x text) RETURNS text LANGUAGE sql IMMUTABLE AS $f$
  SELECT x || ' ' || sb_digits(x) || ' ' || right(sb_digits(x), 10)
$f$;
"""

PG_DOCS = {
    "message": ("""to_tsvector('simple', sb_fold(m.text || coalesce(' ' || (SELECT
                   string_agg(a.name, ' ' ORDER BY a.id) FROM attachment a
                   WHERE a.message_id = m.id), '')))""",
                "message m", "m.kind <> 'event'"),
    "contact": ("""to_tsvector('simple', sb_fold(c.name
                   || ' ' || coalesce((SELECT string_agg(sb_phone(p), ' ')
                                       FROM jsonb_array_elements_text(c.phones::jsonb) p), '')
                   || ' ' || c.emails
                   || ' ' || coalesce((SELECT string_agg(i.display_name || ' ' || i.username
                                       || ' ' || i.external_id || ' ' || sb_phone(i.phone), ' '
                                       ORDER BY i.id) FROM "identity" i
                                       WHERE i.contact_id = c.id), '')))""",
                "contact c", "c.merged_into_id IS NULL"),
    "task": ("""to_tsvector('simple', sb_fold(coalesce(t.number::text, '') || ' ' || t.title
               || ' ' || t.description || ' ' || t.additional_data))""", "task t", "TRUE"),
}


def _pg_refresh(entity: str) -> str:
    expr, source, cond = PG_DOCS[entity]
    alias = source.split()[1]
    return f"""
CREATE OR REPLACE FUNCTION sb_refresh_{entity}(rid bigint) RETURNS void LANGUAGE plpgsql AS $f$
DECLARE doc tsvector;
BEGIN
  SELECT {expr} INTO doc FROM "{entity}" {alias} WHERE {alias}.id = rid AND {cond};
  IF doc IS NULL THEN
    DELETE FROM search_{entity} WHERE id = rid;
  ELSE
    INSERT INTO search_{entity}(id, tsv) VALUES (rid, doc)
      ON CONFLICT (id) DO UPDATE SET tsv = EXCLUDED.tsv;
  END IF;
END $f$;"""


def _pg_trigger(name: str, table: str, body: str) -> str:
    return f"""
CREATE OR REPLACE FUNCTION sb_trg_{name}() RETURNS trigger LANGUAGE plpgsql AS $f$
BEGIN
{body}
  RETURN NULL;
END $f$;
DROP TRIGGER IF EXISTS sb_{name} ON "{table}";
CREATE TRIGGER sb_{name} AFTER INSERT OR UPDATE OR DELETE ON "{table}"
  FOR EACH ROW EXECUTE FUNCTION sb_trg_{name}();"""


def _pg_same(cols: tuple[str, ...]) -> str:
    return " AND ".join(f"NEW.{c} IS NOT DISTINCT FROM OLD.{c}" for c in cols)


def _pg_own(entity: str, cols: tuple[str, ...]) -> str:
    return f"""  IF TG_OP = 'DELETE' THEN DELETE FROM search_{entity} WHERE id = OLD.id; RETURN NULL; END IF;
  IF TG_OP = 'UPDATE' AND {_pg_same(cols)} THEN RETURN NULL; END IF;
  PERFORM sb_refresh_{entity}(NEW.id);"""


def _pg_child(entity: str, fk: str, cols: tuple[str, ...]) -> str:
    return f"""  IF TG_OP = 'UPDATE' AND {_pg_same(cols)} THEN RETURN NULL; END IF;
  IF TG_OP <> 'INSERT' THEN PERFORM sb_refresh_{entity}(OLD.{fk}); END IF;
  IF TG_OP <> 'DELETE' THEN PERFORM sb_refresh_{entity}(NEW.{fk}); END IF;"""


PG_TRIGGERS = {
    "message": ("message", _pg_own("message", ("text", "kind"))),
    "attachment": ("attachment", _pg_child("message", "message_id", ("message_id", "name"))),
    "contact": ("contact", _pg_own("contact", ("name", "phones", "emails", "merged_into_id"))),
    "identity": ("identity", _pg_child("contact", "contact_id", (
        "contact_id", "display_name", "username", "external_id", "phone"))),
    "task": ("task", _pg_own("task", ("number", "title", "description", "additional_data"))),
}


def _pg_ddl(db: pw.Database, sql: str) -> None:
    """Run DDL without parameters (psycopg2 would read the % in it as placeholders)."""
    db.cursor().execute(sql)


def postgres_uninstall(db: pw.Database) -> None:
    for name, (table, _body) in PG_TRIGGERS.items():
        db.execute_sql(f'DROP TRIGGER IF EXISTS sb_{name} ON "{table}"')
    for entity in ENTITIES:
        db.execute_sql(f"DROP TABLE IF EXISTS search_{entity}")


def postgres_install(db: pw.Database, progress: Progress) -> None:
    """Create the side tables, fill them in batches, build GIN indexes, add the triggers."""
    postgres_uninstall(db)
    _pg_ddl(db, PG_FUNCTIONS)
    for entity in ENTITIES:
        db.execute_sql(f"CREATE TABLE search_{entity} (id bigint PRIMARY KEY, tsv tsvector NOT NULL)")
        _pg_ddl(db, _pg_refresh(entity))
        expr, source, cond = PG_DOCS[entity]
        alias = source.split()[1]
        _fill(db, entity, f'INSERT INTO search_{entity}(id, tsv) SELECT {alias}.id, {expr} '
                          f'FROM "{entity}" {alias} WHERE {cond} AND {alias}.id > %s AND {alias}.id <= %s',
              progress)
        db.execute_sql(f"CREATE INDEX search_{entity}_tsv ON search_{entity} USING gin (tsv)")
        db.execute_sql(f"ANALYZE search_{entity}")
    for name, (table, body) in PG_TRIGGERS.items():
        _pg_ddl(db, _pg_trigger(name, table, body))


def install(db: pw.Database, progress: Progress) -> None:
    """(Re)build the whole search index on either backend; idempotent."""
    if isinstance(db, pw.PostgresqlDatabase):
        postgres_install(db, progress)
    else:
        sqlite_install(db, progress)


def uninstall(db: pw.Database) -> None:
    """Drop the index (a bulk import loads without it, then calls :func:`install`)."""
    if isinstance(db, pw.PostgresqlDatabase):
        postgres_uninstall(db)
    else:
        sqlite_uninstall(db)


def migrate(db: pw.Database, models: object, progress: Progress) -> None:
    """Schema migration 2: add full-text search and index what the database holds."""
    install(db, progress)


def migrate_merge_policy(db: pw.Database, models: object, progress: Progress) -> None:
    """Schema migration 5: the FTS5 merge policy (:data:`AUTOMERGE`) on SQLite."""
    if not isinstance(db, pw.PostgresqlDatabase):
        sqlite_tune(db)
