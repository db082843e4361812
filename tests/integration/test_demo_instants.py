"""The demonstration deployment writes its log in time order, each story entry at the instant
its story gives it: the incidents and the Sonora revista happen between the days' shifts, not
after the year of shifts (where the log's clamp would date them all at the last shift and
the demo's notes, "reported 3 days ago", would be false)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import text

from resguardo.services import demo

from world import make_app


def test_the_demo_dates_its_stories_where_they_happen_and_never_goes_back(sqlite_url, clock,
                                                                          tmp_path):
    app = make_app(sqlite_url, clock, tmp_path)
    demo.build(app, days=5, password="demo-password-long")
    with app.engine.connect() as conn:
        rows = conn.execute(text("SELECT position, type, at FROM events ORDER BY position")
                            ).all()
    app.engine.dispose()
    instants = [at for _, _, at in rows]
    assert instants == sorted(instants)
    today = datetime.now(UTC).replace(hour=6, minute=0, second=0, microsecond=0)

    def ago(days: float, hours: float = 0) -> str:
        moment = today - timedelta(days=days) + timedelta(hours=hours)
        return moment.strftime("%Y-%m-%dT%H:%M:%S.000000Z")

    last = {typ: (pos, at) for pos, typ, at in rows}  # the latest of each type
    assert last["firearm.reported_lost"][1] == ago(3)  # the unnotified loss, 3 days ago
    assert last["inspection.opened"][1] == ago(3, 10)  # 09:00 in Hermosillo
    assert last["licence.firearm_attached"][1] == ago(2)
    assert last["officer.suspended"][1] == ago(0.5)
    # the stories are told between the shifts: a shift's entries come after them
    shifts = [pos for pos, typ, _ in rows if typ == "custody.returned"]
    assert any(pos > last["officer.suspended"][0] for pos in shifts)
    assert any(pos < last["firearm.reported_lost"][0] for pos in shifts)
