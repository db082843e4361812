"""Database URLs as operators paste them."""

from __future__ import annotations

from sqlalchemy import make_url

from resguardo.storage.database import normalize_url


def test_a_libpq_multi_host_url_becomes_one_host_parameter_per_server():
    url = normalize_url("postgresql://postgres@db1:5432,db2:5433/resguardo"
                        "?target_session_attrs=read-write")
    parsed = make_url(url)
    assert parsed.drivername == "postgresql+psycopg"
    assert parsed.database == "resguardo" and parsed.username == "postgres"
    assert parsed.query == {"host": ("db1:5432", "db2:5433"),
                            "target_session_attrs": "read-write"}


def test_a_password_and_a_url_without_query_survive():
    parsed = make_url(normalize_url("postgres://u:s3cr%40t@a,b:6000/db"))
    assert parsed.password == "s3cr@t"
    assert parsed.query == {"host": ("a", "b:6000")}


def test_single_host_and_sqlite_urls_are_unchanged_but_for_the_driver():
    assert normalize_url("postgresql://u@h:5432/db") == "postgresql+psycopg://u@h:5432/db"
    assert normalize_url("sqlite:///x.db") == "sqlite:///x.db"
    assert normalize_url("postgresql+psycopg://u@/db?host=/tmp&port=5") == \
        "postgresql+psycopg://u@/db?host=/tmp&port=5"


def test_backup_tools_get_the_cluster_as_libpq_lists_it():
    from resguardo.storage.backup import _conninfo
    uri, env = _conninfo("postgresql://resguardo:pw@db1:5432,db2:5432/resguardo"
                         "?target_session_attrs=read-write")
    assert uri == ("postgresql://resguardo@db1:5432,db2:5432/resguardo"
                   "?target_session_attrs=read-write")
    assert env["PGPASSWORD"] == "pw"  # never on the command line
