"""Where CSV files go: a local folder (atomic rename) or S3 (SeaweedFS), `env:NAME`."""

from __future__ import annotations

import pytest

from integrations.csv_export.destinations import (
    DestinationError,
    LocalDestination,
    S3Destination,
    destination_resolve,
)


def test_env_destinations_are_read_when_the_run_writes(tmp_path, monkeypatch, settings):
    with monkeypatch.context() as env:
        _env_destinations(tmp_path, env, settings)


def _env_destinations(tmp_path, monkeypatch, settings):
    monkeypatch.setenv("CSV_DROP_TEST", "s3://drops/city/records")
    assert destination_resolve("env:CSV_DROP_TEST", embedded_folder=tmp_path) == S3Destination(
        "drops", "city/records/"
    )
    monkeypatch.setenv("CSV_DROP_TEST", str(tmp_path / "drop"))
    assert destination_resolve("env:CSV_DROP_TEST", embedded_folder=tmp_path) == LocalDestination(
        tmp_path / "drop"
    )
    monkeypatch.setenv("CSV_DROP_TEST", "file:///srv/drop/")
    assert destination_resolve("env:CSV_DROP_TEST", embedded_folder=tmp_path) == LocalDestination(
        __import__("pathlib").Path("/srv/drop/")
    )
    settings.VAR_DIR = tmp_path
    monkeypatch.setenv("CSV_DROP_TEST", "drops/x")
    assert destination_resolve("env:CSV_DROP_TEST", embedded_folder=tmp_path).folder == (  # type: ignore[attr-defined]
        tmp_path / "drops/x"
    )


def test_an_unset_variable_is_the_embedded_folder_only_in_the_embedded_default(tmp_path, settings):
    settings.EMBEDDED = True
    assert destination_resolve("env:CSV_DROP_TEST", embedded_folder=tmp_path) == LocalDestination(
        tmp_path
    )
    settings.EMBEDDED = False
    with pytest.raises(DestinationError, match="CSV_DROP_TEST is not set"):
        destination_resolve("env:CSV_DROP_TEST", embedded_folder=tmp_path)
    with pytest.raises(DestinationError):
        destination_resolve("ftp://host/x", embedded_folder=tmp_path)


def test_a_local_file_appears_whole_or_not_at_all(tmp_path, settings):
    settings.CSV_LOCAL_ROOTS = [tmp_path]
    dest = LocalDestination(tmp_path / "drop")
    assert dest.write("a.csv", lambda out: out.write(b"hello")) == 5
    assert (tmp_path / "drop" / "a.csv").read_bytes() == b"hello"

    def half_then_fail(out):
        out.write(b"half of a file")
        raise RuntimeError("writer died")

    with pytest.raises(RuntimeError):
        dest.write("b.csv", half_then_fail)
    # Neither the final name nor a temporary file is left behind.
    assert sorted(p.name for p in (tmp_path / "drop").iterdir()) == ["a.csv"]
    # A file rewritten keeps its name; the old content stays until the new one is whole.
    with pytest.raises(RuntimeError):
        dest.write("a.csv", half_then_fail)
    assert dest.read("a.csv") == b"hello"


def test_a_temporary_file_left_by_a_killed_writer_is_removed_once_stale(tmp_path, settings):
    import os
    import time

    settings.CSV_LOCAL_ROOTS = [tmp_path]
    dest = LocalDestination(tmp_path)
    old, young = tmp_path / ".tmp-old.part", tmp_path / ".tmp-young.part"
    old.write_bytes(b"half")
    young.write_bytes(b"being written")
    day_ago = time.time() - 25 * 3600
    os.utime(old, (day_ago, day_ago))
    dest.write("c.csv", lambda out: out.write(b"c"))
    assert not old.exists() and young.exists()


def test_a_local_folder_outside_the_allowed_roots_is_refused(tmp_path, settings):
    root, outside = tmp_path / "drops", tmp_path / "elsewhere"
    settings.CSV_LOCAL_ROOTS = [root]
    LocalDestination(root / "city" / "records").write("a.csv", lambda out: out.write(b"a"))
    assert (root / "city" / "records" / "a.csv").read_bytes() == b"a"
    for folder in (outside, root / ".." / "elsewhere", tmp_path):
        with pytest.raises(DestinationError, match="outside CSV_LOCAL_ROOTS"):
            LocalDestination(folder).write("b.csv", lambda out: out.write(b"b"))
        with pytest.raises(DestinationError, match="outside CSV_LOCAL_ROOTS"):
            LocalDestination(folder).read("b.csv")
    # A symlink inside a root that leads outside is followed, then refused.
    outside.mkdir()
    (root / "link").symlink_to(outside)
    with pytest.raises(DestinationError, match="outside CSV_LOCAL_ROOTS"):
        LocalDestination(root / "link").write("c.csv", lambda out: out.write(b"c"))
    assert list(outside.iterdir()) == []
    # A file name never leads out of its folder.
    with pytest.raises(DestinationError, match="not a file name"):
        LocalDestination(root).write("../d.csv", lambda out: out.write(b"d"))
    # An empty list allows any folder (the check is off).
    settings.CSV_LOCAL_ROOTS = []
    LocalDestination(outside).write("e.csv", lambda out: out.write(b"e"))
    assert (outside / "e.csv").read_bytes() == b"e"


def test_the_default_roots_are_the_embedded_drop_and_the_operators():
    from django.conf import settings as live

    assert live.CSV_LOCAL_ROOTS[0] == live.VAR_DIR / "csv-exports"


@pytest.mark.django_db
def test_an_s3_destination_writes_through_the_storage_layer(s3_server, settings):
    for name, value in s3_server.settings().items():
        setattr(settings, name, value)
    dest = S3Destination(s3_server.bucket, "csv-test/drop/")
    assert dest.write("a.csv", lambda out: out.write(b"x" * 10)) == 10
    assert dest.read("a.csv") == b"x" * 10
    assert dest.read("missing.csv") is None

    def half_then_fail(out):
        out.write(b"half")
        raise RuntimeError("writer died")

    with pytest.raises(RuntimeError):
        dest.write("b.csv", half_then_fail)
    assert dest.read("b.csv") is None
