"""``resguardo trace`` and ``resguardo check duplicates`` as a script or a person uses them."""

from __future__ import annotations

import csv
import io
import json

from pypdf import PdfReader

from resguardo.domain.registry import FirearmInput
from resguardo.services import accounts, custody, registry

from world import do, shifts

FORMAT_KEYS = ["serial", "make", "model", "calibre", "distance", "agency", "status",
               "custodian_on_date", "custody"]


def log_size(world) -> int:  # type: ignore[no-untyped-def]
    with world.read(None) as uow:
        return uow.repo.log_size()


def test_trace_prints_the_formats_md_json(cli):
    result = cli("--as", "investigador", "trace", "GLK-A1?0", "--make", "Glock", "--date",
                 "2025-03-03T09:00", "--limit", "2", "--json")
    assert result.exit_code == 0, result.output
    answer = json.loads(result.stdout)
    assert answer["query"] == "GLK-A1?0"
    assert [c["serial"] for c in answer["candidates"]] == ["GLK-A100", "GLK-A200"]
    assert list(answer["candidates"][0])[:9] == FORMAT_KEYS
    assert answer["candidates"][0]["distance"] == 0.1


def test_trace_search_is_the_same_command_spelled_out(cli):
    short = json.loads(cli("--as", "investigador", "trace", "GLK-A100", "--json").stdout)
    long = json.loads(cli("--as", "investigador", "trace", "search", "GLK-A100",
                          "--json").stdout)
    assert short == long


def test_trace_for_people_prints_a_table_and_the_custody(cli):
    cli("--as", "armero1", "issue", "GLK-A100", "--to", "P1")
    result = cli("--as", "investigador", "trace", "GLK-AI00")
    assert result.exit_code == 0, result.output
    assert "GLK-A100" in result.stdout and "custody.issued P1 Ana Ruiz" in result.stdout


def test_a_trace_outside_the_role_exits_one_with_the_reason(cli, world):
    size = log_size(world)
    result = cli("--as", "armero1", "trace", "GLK-A100")
    assert result.exit_code == 1 and "may not trace" in result.stderr
    assert log_size(world) == size


def test_a_serial_and_a_file_together_or_neither_is_bad_usage(cli, tmp_path):
    queries = tmp_path / "q.csv"
    queries.write_text("serial\nGLK-A100\n")
    assert cli("--as", "investigador", "trace", "search").exit_code == 2
    assert cli("--as", "investigador", "trace", "GLK-A100", "--file", str(queries)).exit_code == 2


def test_a_file_gives_one_json_object_per_line_in_file_order(cli, world, tmp_path):
    queries = tmp_path / "q.csv"
    queries.write_text("Serial,Make,Date\nBER-B1OO,,\nGLK-A2?0,Glock,2025-03-03\n\n"
                       "SIG-C100,,\nGLK-A100,Colt,\n", encoding="utf-8")
    size = log_size(world)
    result = cli("--as", "investigador", "trace", "--file", str(queries), "--json")
    assert result.exit_code == 0, result.output
    lines = [json.loads(line) for line in result.stdout.splitlines()]
    assert [a["query"] for a in lines] == ["BER-B1OO", "GLK-A2?0", "SIG-C100", "GLK-A100"]
    assert [[c["serial"] for c in a["candidates"]][:1] for a in lines] == [
        ["BER-B100"], ["GLK-A200"], [], []]
    assert log_size(world) == size + 4  # every query recorded


def test_a_file_without_json_gives_one_csv_row_per_query(cli, world, tmp_path):
    do(world, "armero1", custody.issue, "GLK-A200", "P2")
    queries = tmp_path / "q.csv"
    queries.write_text("serial\nGLK-A2OO\nSIG-C100\n")
    result = cli("--as", "investigador", "trace", "--file", str(queries))
    assert result.exit_code == 0, result.output
    rows = list(csv.DictReader(io.StringIO(result.stdout)))
    assert [r["line"] for r in rows] == ["2", "3"]
    assert (rows[0]["serial"], rows[0]["distance"], rows[0]["custodian_badge"],
            rows[0]["status_on_date"]) == ("GLK-A200", "1", "P2", "issued")
    assert rows[0]["other_candidates"].startswith("GLK-A100 (Glock) 2")
    assert (rows[1]["candidates"], rows[1]["serial"]) == ("0", "")


def test_a_bad_row_refuses_the_whole_file_before_anything_is_recorded(cli, world, tmp_path):
    queries = tmp_path / "q.csv"
    queries.write_text("serial,date\nGLK-A100,\n???,\n")
    size = log_size(world)
    result = cli("--as", "investigador", "trace", "--file", str(queries), "--json")
    assert result.exit_code == 1 and "q.csv line 3" in result.stderr
    assert result.stdout == "" and log_size(world) == size
    queries.write_text("serial,date\nGLK-A100,2025-13-01\n")
    assert "line 2" in cli("--as", "investigador", "trace", "--file", str(queries)).stderr
    queries.write_text("matricula\nGLK-A100\n")
    assert cli("--as", "investigador", "trace", "--file", str(queries)).exit_code == 2


def test_trace_log_shows_own_traces_to_investigators_and_all_to_auditors(cli):
    cli("--as", "investigador", "trace", "GLK-A100", "--reason", "FED/77")
    cli("--as", "investigador2", "trace", "SIG-C100")
    own = json.loads(cli("--as", "investigador", "trace", "log", "--json").stdout)
    assert [(e["actor"], e["query"], e["reason"]) for e in own["items"]] == [
        ("investigador", "GLK-A100", "FED/77")]
    every = json.loads(cli("--as", "auditor", "trace", "log", "--json").stdout)
    assert every["total"] == 2
    table = cli("--as", "auditor", "trace", "log")
    assert table.exit_code == 0 and "SIG-C100" in table.stdout
    assert cli("--as", "armero1", "trace", "log").exit_code == 1


def test_a_trace_request_is_recorded_and_written_as_pdf(cli, world, tmp_path):
    out = tmp_path / "solicitud.pdf"
    result = cli("--as", "investigador", "trace", "request", "GLK-A1??", "--make", "Glock",
                 "--calibre", "9x19mm", "--kind", "pistol", "--country", "Austria",
                 "--importer", "Importadora del Norte", "--markings", "MADE IN AUSTRIA",
                 "--recovered-at", "Col. Centro", "--recovered-on", "2025-03-03",
                 "--case-file", "FED/JAL/GDL/0001234/2025", "--reason", "Homicidio en Col. Centro",
                 "--pdf", str(out), "--json")
    assert result.exit_code == 0, result.output
    record = json.loads(result.stdout)
    assert record["case_file"] == "FED/JAL/GDL/0001234/2025"
    assert (record["serial"], record["obliterated"], record["country_of_origin"],
            record["recovered_on"]) == ("GLK-A1??", False, "Austria", "2025-03-03")
    assert record["candidates"][0]["serial"] == "GLK-A100"
    assert out.read_bytes().startswith(b"%PDF")
    with world.read(None) as uow:
        ev = uow.repo.event(record["request"])
    assert (ev.type, ev.actor, ev.payload["importer"], ev.payload["case_file"]) == (
        "access.trace_request", "investigador", "Importadora del Norte",
        "FED/JAL/GDL/0001234/2025")
    log = json.loads(cli("--as", "investigador", "trace", "log", "--json").stdout)
    assert log["items"][0]["kind"] == "request"


def test_an_obliterated_serial_still_makes_a_request_in_english(cli, tmp_path):
    out = tmp_path / "request.pdf"
    result = cli("--as", "investigador", "trace", "request", "--obliterated", "--make", "Glock",
                 "--case-file", "CI-FGE-SON-0312/2025", "--lang", "en", "--pdf", str(out))
    assert result.exit_code == 0, result.output
    assert "0 candidate(s)" in result.stdout and out.read_bytes().startswith(b"%PDF")
    assert cli("--as", "investigador", "trace", "request", "--make", "Glock",
               "--case-file", "CI-1/2025").exit_code == 1


def test_the_request_pdf_names_the_requester_and_the_case_file_in_local_time(
        cli, world, tmp_path):
    do(world, "admin", accounts.set_profile, "investigador", name="Mtra. Claudia Reyes Aguilar",
       post="Agente del Ministerio Público, unidad de rastreo")
    do(world, "admin", registry.set_place, "SSP", time_zone="America/Hermosillo")
    out = tmp_path / "solicitud.pdf"
    result = cli("--as", "investigador", "trace", "request", "GLK-A1??", "--make", "Glock",
                 "--case-file", "CI-FGE-SON-0312/2025", "--pdf", str(out))
    assert result.exit_code == 0, result.output
    text = " ".join(" ".join(p.extract_text() for p in PdfReader(out).pages).split())
    assert "Carpeta de investigación CI-FGE-SON-0312/2025" in text
    assert ("Mtra. Claudia Reyes Aguilar, Agente del Ministerio Público, unidad de rastreo "
            "(investigador)") in text
    assert "2025-03-03 01:00 (America/Hermosillo, UTC-07:00)" in text
    assert "UTC)" not in text.replace("UTC-07:00)", "")


def test_a_trace_request_without_its_case_file_is_refused_and_nothing_is_recorded(cli, world):
    before = json.loads(cli("--as", "investigador", "trace", "log", "--json").stdout)["total"]
    missing = cli("--as", "investigador", "trace", "request", "GLK-A100", "--make", "Glock")
    assert missing.exit_code == 1
    assert "case file number (carpeta de investigación)" in missing.output
    junk = cli("--as", "investigador", "trace", "request", "GLK-A100", "--case-file", "ninguna")
    assert junk.exit_code == 1 and "is not a case file number" in junk.output
    after = json.loads(cli("--as", "investigador", "trace", "log", "--json").stdout)["total"]
    assert after == before


def test_check_duplicates_as_json_and_csv(cli, world, tmp_path):
    do(world, "armero2", registry.register_firearm, "MUN2", "ARM1", FirearmInput(
        serial="GLK-A1O0", make="Glock", calibre="9x19mm", kind="pistol"))
    result = json.loads(cli("--as", "supervisor", "check", "duplicates", "--json").stdout)
    assert result["summary"]["lookalike"] == 1
    out = tmp_path / "dup.csv"
    text = cli("--as", "supervisor", "check", "duplicates", "--csv", str(out))
    assert text.exit_code == 0 and "1 look-alike" in text.stdout
    rows = list(csv.reader(io.StringIO(out.read_text(encoding="utf-8-sig"))))
    assert rows[0][:3] == ["kind", "make", "serial"]
    assert rows[1][:3] == ["lookalike", "Glock", "GLK-A100"]
    assert cli("--as", "supervisor", "check", "duplicates", "--json", "--csv",
               str(out)).exit_code == 2


def test_among_equally_near_serials_the_one_the_reading_comes_from_in_more_ways_is_listed_first(
        cli, world):
    # LW690153 is two edits from each; only LW604153 is reached two ways (two misread
    # digits, or a lost 4 and an extra 9): it is listed first although it sorts last.
    for serial in ("LW090152", "LW600353", "LW604153"):
        do(world, "armero2", registry.register_firearm, "MUN2", "ARM1", FirearmInput(
            serial=serial, make="Colt", calibre="5.56x45mm", kind="rifle"))
    answer = json.loads(cli("--as", "investigador", "trace", "LW690153", "--json").stdout)
    assert [(c["serial"], c["distance"]) for c in answer["candidates"]] == [
        ("LW604153", 2.0), ("LW090152", 2.0), ("LW600353", 2.0)]


def test_a_long_chain_prints_its_window_and_full_custody_prints_it_whole(cli, world, clock):
    shifts(world, clock, "GLK-A100", "P1", "ARM2", 15)
    result = cli("--as", "investigador", "trace", "GLK-A100", "--limit", "1")
    assert result.exit_code == 0, result.output
    assert "20 of 31 custody entries (--full-custody for all)" in result.stdout
    window = json.loads(cli("--as", "investigador", "trace", "GLK-A100", "--limit", "1",
                            "--json").stdout)["candidates"][0]
    assert (len(window["custody"]), window["custody_total"], window["custody_complete"]) == (
        20, 31, False)
    full = json.loads(cli("--as", "investigador", "trace", "GLK-A100", "--limit", "1",
                          "--full-custody", "--json").stdout)["candidates"][0]
    assert (len(full["custody"]), full["custody_total"], full["custody_complete"]) == (
        31, 31, True)
    assert full["custody"][-20:] == window["custody"]
    # a dated trace shows what came after the moment apart
    result = cli("--as", "investigador", "trace", "GLK-A100", "--limit", "1", "--date",
                 "2025-03-03T09:30")
    assert "after on 2025-03-03T09:30:" in result.stdout
