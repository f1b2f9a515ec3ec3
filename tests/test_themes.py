"""Priority themes and the borough overview on the real sample: theme counts checked against
counts taken straight from the raw police.uk CSVs (csv module, pyproj, shapely, and the
police.uk side of the mapping written out here), the editable mapping on SQLite and
PostgreSQL, the RAG rule, the alerts from the EXAMPLE registers, and the CLI."""

from __future__ import annotations

import csv
import json
import threading
from collections import Counter
from datetime import date, datetime

import geopandas as gpd
import pandas as pd
import pytest
import shapely
from click.testing import CliRunner
from pyproj import Transformer
from scipy import stats
from sqlalchemy import func, select

from access.roles import Principal
from access.scope import acting_as
from cli.main import main as cli
from core.themes import THEMES
from geo.crs import BNG
from registers.alerts import overview_alerts
from registers.example import EXAMPLES, seed_example_registers
from report.compare import Target, jag_comparison
from report.theme_mapping import (
    POLICE_UK_TYPES,
    ThemeError,
    categories_for,
    default_mapping,
    reset_theme_mapping,
    save_theme_mapping,
    theme_mapping,
)
from report.themes import theme_table
from store.models import ThemeMapping
from tests.sample_data import BOUNDARIES, SPELTHORNE, has_coordinates, police_dicts

TO_BNG = Transformer.from_crs(4326, BNG, always_xy=True)
SV, VAWG, DA, HATE, ACQ, ASB, EXPL, WATER = THEMES
# The police.uk side of the default mapping, written out here rather than read from the code.
POLICE_THEMES = {
    SV: {"Violence and sexual offences", "Robbery", "Possession of weapons"},
    VAWG: set(), DA: set(), HATE: set(),
    ACQ: {"Bicycle theft", "Burglary", "Other theft", "Robbery", "Shoplifting",
          "Theft from the person", "Vehicle crime"},
    ASB: {"Anti-social behaviour", "Criminal damage and arson", "Public order"},
    EXPL: {"Drugs"},
    WATER: set(),
}
YEAR_2023 = [f"2023-{m:02d}" for m in range(1, 13)]
STORED_2022 = [f"2022-{m:02d}" for m in range(1, 12)]  # 2022-12 is not in the sample
WHO = "test analyst"


@pytest.fixture(scope="module")
def raw() -> pd.DataFrame:
    """Every raw police.uk row of the sample inside Spelthorne's bundled outline: month and
    crime type, located without the product."""
    lads = gpd.read_file(BOUNDARIES / "lad_2013_sample.geojson")
    outline = lads[lads["LAD13CD"] == SPELTHORNE].to_crs(BNG).geometry.iloc[0]
    rows = [r for m in [*STORED_2022, *YEAR_2023, "2024-01"] for r in police_dicts(m)
            if has_coordinates(r)]
    x, y = TO_BNG.transform([float(r["Longitude"]) for r in rows],
                            [float(r["Latitude"]) for r in rows])
    frame = pd.DataFrame({"month": [r["Month"] for r in rows],
                          "category": [r["Crime type"] for r in rows]})
    return frame[shapely.contains_xy(outline, x, y)].reset_index(drop=True)


def raw_count(raw: pd.DataFrame, months: list[str], categories: set[str]) -> int:
    """Raw rows of the months whose crime type is one of the categories."""
    return int((raw["month"].isin(months) & raw["category"].isin(categories)).sum())


def expected_rag(pct: float, target: Target) -> str:
    """The compare module's rule, written out independently."""
    if target.direction == "reduce":
        return "Green" if pct <= -target.percent else "Amber" if pct <= 0 else "Red"
    return "Green" if pct >= target.percent else "Amber" if pct >= 0 else "Red"


def stored_rows(engine) -> list[tuple]:
    """The theme_mappings table as it is, with who saved each row and when."""
    table = ThemeMapping.__table__
    with engine.connect() as conn:
        return [tuple(r) for r in conn.execute(
            select(table.c.category, table.c.theme, table.c.updated_at, table.c.updated_by)
            .order_by(table.c.category, table.c.theme))]


# ---------------------------------------------------------------- counts and RAG


def test_theme_counts_for_a_month_match_the_raw_police_csvs(sample_db, raw):
    result = theme_table(sample_db.engine, "Spelthorne", "2023-12")
    table = result.table.set_index("theme")
    assert list(table.index) == list(THEMES)
    # 2022-12 is not in the sample: 2023-12 is dropped with it; 11 of 12 months compared
    assert result.comparable and result.pairs.months_compared == 11
    now, before = YEAR_2023[:11], STORED_2022
    for theme, types in POLICE_THEMES.items():
        row = table.loc[theme]
        assert row["incidents"] == raw_count(raw, ["2023-12"], types), theme
        assert row["previous_month"] == raw_count(raw, ["2023-11"], types), theme
        assert row["change_previous_month"] == row["incidents"] - row["previous_month"]
        # no year-ago month (2022-12); the rolling counts are of the months compared
        assert pd.isna(row["same_month_last_year"])
        assert row["rolling"] == raw_count(raw, now, types), theme
        assert row["rolling_previous"] == raw_count(raw, before, types), theme
        assert row["months_compared"] == 11
        assert row["months_dropped"] == "2023-12 (no data for 2022-12)"
        if not types:
            assert row["incidents"] == 0 and "import the council's log" in row["note"]
            assert row["rag"] == "" and row["reading"].startswith("no change")
            continue
        assert row["change"] == row["rolling"] - row["rolling_previous"]
        pct = 100 * row["change"] / row["rolling_previous"]
        assert row["rag"] == expected_rag(pct, Target("reduce", 0)), theme
        assert row["reading"].startswith("rose" if pct > 0 else "fell"), row["reading"]
    assert table.loc[SV, "incidents"] > 200 and table.loc[ACQ, "incidents"] > 200
    # which categories made up each theme, and what counted in none
    parts = result.breakdown[result.breakdown["theme"] == ACQ].set_index("category")
    month = Counter(raw.loc[raw["month"] == "2023-12", "category"])
    for category in POLICE_THEMES[ACQ]:
        assert parts.loc[category, "incidents"] == month[category]
        assert parts.loc[category, "rolling"] == raw_count(raw, now, {category})
    unmapped = result.unmapped.set_index("category")["incidents"]
    assert unmapped.to_dict() == {"Other crime": month["Other crime"]}
    # the numbers add up: every incident of the month is in one theme, except Robbery (two
    # themes) and Other crime (none)
    assert sum(month.values()) == (table["incidents"].sum() - month["Robbery"]
                                   + month["Other crime"])
    assert any("Robbery" in n and "more than one theme" in n for n in result.notes)
    assert any("No data loaded for 2022-12" in n for n in result.notes)
    assert any("11 of 12 months" in n and "2023-12 (no data for 2022-12)" in n
               for n in result.notes)
    assert result.default_mapping and not result.complete


def test_themes_with_too_few_comparable_months_get_no_change_and_say_why(sample_db, raw):
    # rolling 2022-07..2023-06 against 2021-07..2022-06: only 2023-01..2023-06 have data in
    # both periods, 6 of 12, fewer than three quarters
    result = theme_table(sample_db.engine, "Spelthorne", "2023-06")
    assert not result.comparable and result.pairs.months_compared == 6
    table = result.table.set_index("theme")
    for theme, types in POLICE_THEMES.items():
        row = table.loc[theme]
        assert pd.isna(row["change"]) and row["rag"] == "" and pd.isna(row["change_pct"])
        assert row["reading"].startswith("not compared")
        if types:
            assert "only 6 of 12 months can be compared" in row["note"]
            # the counts are of every month loaded in each period
            assert row["rolling"] == raw_count(raw, STORED_2022[6:] + YEAR_2023[:6], types)
            assert row["rolling_previous"] == raw_count(raw, STORED_2022[:6], types)
    assert any("Only 6 of 12 months" in n and "three quarters" in n for n in result.notes)


def test_theme_rates_per_1000_residents_of_the_borough(sample_db, raw):
    from geo.population import load_census_population

    load_census_population(sample_db.engine)
    result = theme_table(sample_db.engine, "Spelthorne", "2024-01")
    assert result.population == 102954  # Census 2021 usual residents of Spelthorne
    table = result.table.set_index("theme")
    for theme in POLICE_THEMES:
        row = table.loc[theme]
        assert row["per_1000_residents"] == pytest.approx(1000 * row["rolling"] / 102954,
                                                          abs=0.005), theme
    assert any("per 1,000 of the borough's 102,954 residents" in n for n in result.notes)
    assert result.to_dict()["population"] == 102954


def test_rag_of_each_theme_follows_the_rule(sample_db, raw):
    targets = {"ASB": Target("reduce", 10), SV: Target("increase", 5), "*": Target("reduce", 5)}
    result = theme_table(sample_db.engine, "Spelthorne", "2024-01", targets=targets, months=6)
    assert result.complete
    assert result.periods["rolling"] == ("2023-08", "2024-01")
    assert result.periods["rolling previous"] == ("2023-02", "2023-07")
    now = [*YEAR_2023[7:], "2024-01"]
    before = YEAR_2023[1:7]
    table = result.table.set_index("theme")
    coloured = set()
    for theme, types in POLICE_THEMES.items():
        row = table.loc[theme]
        current, previous = raw_count(raw, now, types), raw_count(raw, before, types)
        assert (row["rolling"], row["rolling_previous"]) == (current, previous), theme
        if not previous:
            assert row["rag"] == "" and "nothing in the earlier period" in row["note"]
            continue
        pct = 100 * (current - previous) / previous
        assert row["change_pct"] == pytest.approx(pct, abs=0.05)
        target = {ASB: Target("reduce", 10), SV: Target("increase", 5)}.get(
            theme, Target("reduce", 5))
        assert row["target"] == str(target)
        assert row["rag"] == expected_rag(pct, target), theme
        p = stats.binomtest(current, current + previous, 0.5).pvalue
        assert row["p_value"] == pytest.approx(p, abs=1e-4)
        assert row["significant"] == (p < 0.05)
        coloured.add(row["rag"])
    assert coloured >= {"Green", "Red"}
    # the same counts as the JAG report's comparison of the same crime types
    jag = jag_comparison(sample_db.engine, "Spelthorne", "2024-01", 6,
                         categories=sorted(POLICE_THEMES[ASB])).table.iloc[0]
    assert (jag["current"], jag["previous"]) == tuple(table.loc[ASB, ["rolling",
                                                                      "rolling_previous"]])


def test_without_a_target_a_theme_gets_reduce_by_nought(sample_db, raw):
    table = theme_table(sample_db.engine, "Spelthorne", "2024-01", months=6).table
    for row in table.itertuples():
        assert row.target == "reduce by 0% (default)"
        if row.rag:  # Green for a fall or no change, Red for a rise: no Amber at 0%
            assert row.rag == ("Green" if row.change <= 0 else "Red"), row.theme


def test_an_edited_mapping_changes_the_counts_and_says_what_has_no_category(sample_db, raw):
    mapping = pd.DataFrame([
        {"category": "Drugs", "theme": WATER},
        {"category": "Shoplifting", "theme": ACQ},
        {"category": "Violence and sexual offences", "theme": VAWG},
        {"category": "Violence and sexual offences", "theme": DA},
    ])
    result = theme_table(sample_db.engine, "Spelthorne", "2023-11", mapping=mapping)
    table = result.table.set_index("theme")
    assert table.loc[WATER, "incidents"] == raw_count(raw, ["2023-11"], {"Drugs"})
    assert table.loc[ACQ, "incidents"] == raw_count(raw, ["2023-11"], {"Shoplifting"})
    violence = raw_count(raw, ["2023-11"], {"Violence and sexual offences"})
    assert table.loc[VAWG, "incidents"] == table.loc[DA, "incidents"] == violence
    for theme in (SV, HATE, ASB, EXPL):
        assert table.loc[theme, "incidents"] == 0
        assert "no category counts towards this theme" in table.loc[theme, "note"]
    assert table.loc[ACQ, "categories"] == "Shoplifting"
    assert "Burglary" in set(result.unmapped["category"])
    assert not result.default_mapping


def test_an_unknown_theme_in_the_targets_is_refused(sample_db):
    with pytest.raises(ThemeError, match="not a priority theme"):
        theme_table(sample_db.engine, "Spelthorne", "2023-12",
                    targets={"Burglary": Target("reduce", 5)})


# ---------------------------------------------------------------- the editable mapping


def test_mapping_edit_round_trip(register_db):
    engine = register_db.engine
    reset_theme_mapping(engine)
    assert theme_mapping(engine).attrs["default"]
    result = save_theme_mapping(engine, [
        {"category": "shoplifting", "theme": "town centre & acquisitive crime"},
        {"category": "Violence and sexual offences", "theme": SV},
        {"category": "Violence and sexual offences", "theme": "VAWG"},
        {"category": "Cycle theft (council CCTV)", "theme": ACQ},
    ], WHO)
    assert result.saved and not result.unchanged and result.rejected.empty
    mapping = theme_mapping(engine)
    assert not mapping.attrs["default"] and mapping.attrs["updated_by"] == WHO
    assert set(mapping.itertuples(index=False, name=None)) == {
        ("Shoplifting", ACQ), ("Violence and sexual offences", SV),
        ("Violence and sexual offences", VAWG), ("Cycle theft (council CCTV)", ACQ)}
    assert categories_for(engine, ACQ) == ["Cycle theft (council CCTV)", "Shoplifting"]
    assert categories_for(engine, "vawg") == ["Violence and sexual offences"]
    assert categories_for(engine, HATE) == []
    # editing again replaces the whole mapping
    save_theme_mapping(engine, pd.DataFrame({"category": ["Drugs"], "theme": [EXPL]}), WHO)
    assert theme_mapping(engine)[["category", "theme"]].values.tolist() == [["Drugs", EXPL]]
    reset_theme_mapping(engine)


def test_saving_the_same_mapping_twice_changes_nothing(register_db):
    engine = register_db.engine
    reset_theme_mapping(engine)
    rows = default_mapping()
    first = save_theme_mapping(engine, rows, WHO)
    stored = stored_rows(engine)
    assert first.saved and len(stored) == len(rows)
    again = save_theme_mapping(engine, rows, "someone else")
    assert again.unchanged and not again.saved and len(again.accepted) == len(rows)
    assert stored_rows(engine) == stored  # not doubled, not even re-stamped
    reset_theme_mapping(engine)


def test_reset_goes_back_to_the_defaults(register_db):
    engine = register_db.engine
    save_theme_mapping(engine, [{"category": "Drugs", "theme": WATER}], WHO)
    assert categories_for(engine, WATER) == ["Drugs"]
    assert reset_theme_mapping(engine) == 1
    mapping = theme_mapping(engine)
    assert mapping.attrs["default"]
    assert mapping.equals(default_mapping())
    with register_db.engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(ThemeMapping)).scalar_one() == 0
    assert "Violence and sexual offences" in categories_for(engine, SV)
    assert "Drugs" not in categories_for(engine, WATER)


def test_a_mapping_with_no_usable_row_saves_nothing(register_db):
    engine = register_db.engine
    reset_theme_mapping(engine)
    save_theme_mapping(engine, [{"category": "Drugs", "theme": EXPL}], WHO)
    before = stored_rows(engine)
    result = save_theme_mapping(engine, [{"category": "", "theme": SV},
                                         {"category": "Drugs", "theme": "Terrorism"}], WHO)
    assert not result.saved and result.accepted.empty and len(result.rejected) == 2
    assert "nothing saved" in result.summary()
    assert stored_rows(engine) == before
    reset_theme_mapping(engine)


def test_two_saves_at_once_leave_one_whole_mapping(register_db):
    engine = register_db.engine
    reset_theme_mapping(engine)
    first = [{"category": "Drugs", "theme": EXPL}, {"category": "Burglary", "theme": ACQ}]
    second = [{"category": "Drugs", "theme": EXPL}, {"category": "Robbery", "theme": SV}]
    barrier = threading.Barrier(2)
    errors = []

    def save(rows):
        try:
            with acting_as(Principal(f"analyst{len(rows)}", "analyst")):
                save_five(rows)
        except Exception as exc:  # reported below
            errors.append(exc)

    def save_five(rows):  # two analysts, each in their own thread
        for i in range(5):
            barrier.wait(timeout=30)
            save_theme_mapping(engine, rows, f"{WHO} {i}")

    workers = [threading.Thread(target=save, args=(rows,)) for rows in (first, second)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(timeout=120)
    assert not errors
    stored = {(r[0], r[1]) for r in stored_rows(engine)}
    assert stored in ({(r["category"], r["theme"]) for r in rows} for rows in (first, second))
    reset_theme_mapping(engine)


def test_the_default_mapping_of_police_uk_types_is_as_documented():
    mapping = default_mapping()
    police = mapping[mapping["category"].isin(POLICE_UK_TYPES)]
    for theme, types in POLICE_THEMES.items():
        assert set(police.loc[police["theme"] == theme, "category"]) == types, theme
    assert set(POLICE_UK_TYPES) - set(mapping["category"]) == {"Other crime"}
    assert mapping["theme"].isin(THEMES).all() and not mapping.duplicated().any()
    assert set(mapping["theme"]) == set(THEMES)  # every theme has a category by default


def test_categories_for_an_unknown_theme_says_which_themes_exist(fresh_db):
    assert categories_for(fresh_db.engine, "asb") == [
        "Anti-social behaviour", "Criminal damage and arson", "Public order", "Noise",
        "Youth nuisance", "Rowdy or inconsiderate behaviour", "Neighbour nuisance",
        "Nuisance vehicles", "Street drinking", "Begging", "Vandalism", "Graffiti",
        "Fly-tipping", "Abandoned vehicle", "Drug litter"]
    with pytest.raises(ValueError, match="'Burglary' is not a priority theme; choose one of: "
                                         "Serious violence; Violence against women"):
        categories_for(fresh_db.engine, "Burglary")


def _saved_with_one_bad_row(engine, bad: dict) -> tuple:
    rows = [{"category": "Burglary", "theme": ACQ}, bad, {"category": "Drugs", "theme": EXPL}]
    result = save_theme_mapping(engine, rows, WHO)
    assert result.saved and result.accepted["row"].tolist() == [1, 3]
    assert set(theme_mapping(engine).itertuples(index=False, name=None)) == {
        ("Burglary", ACQ), ("Drugs", EXPL)}
    [rejected] = result.rejected.to_dict("records")
    assert rejected["row"] == 2
    return rejected, result


def test_a_blank_category_is_set_aside(fresh_db):
    rejected, _ = _saved_with_one_bad_row(fresh_db.engine, {"category": "  ", "theme": SV})
    assert (rejected["column"], rejected["reason"]) == ("category", "category is blank")


def test_a_missing_category_value_is_set_aside(fresh_db):
    rejected, _ = _saved_with_one_bad_row(fresh_db.engine, {"category": None, "theme": SV})
    assert (rejected["column"], rejected["reason"]) == ("category", "category is blank")


def test_a_blank_theme_is_set_aside_with_the_allowed_themes(fresh_db):
    rejected, _ = _saved_with_one_bad_row(fresh_db.engine, {"category": "Drugs", "theme": ""})
    assert rejected["column"] == "theme"
    assert rejected["reason"].startswith("theme is blank; choose one of: Serious violence;")


def test_an_unknown_theme_is_set_aside_with_the_allowed_themes(fresh_db):
    rejected, _ = _saved_with_one_bad_row(fresh_db.engine,
                                          {"category": "Robbery", "theme": "Counter terrorism"})
    assert rejected["column"] == "theme" and rejected["theme"] == "Counter terrorism"
    assert rejected["reason"] == ("'Counter terrorism' is not a priority theme; choose one of: "
                                  + "; ".join(THEMES))


def test_an_over_long_category_is_set_aside(fresh_db):
    rejected, _ = _saved_with_one_bad_row(fresh_db.engine, {"category": "x" * 201, "theme": SV})
    assert (rejected["column"], rejected["reason"]) == (
        "category", "category is 201 characters long; at most 200")


def test_an_over_long_theme_is_set_aside(fresh_db):
    rejected, _ = _saved_with_one_bad_row(fresh_db.engine, {"category": "Drugs",
                                                            "theme": "y" * 101})
    assert (rejected["column"], rejected["reason"]) == (
        "theme", "theme is 101 characters long; at most 100")


def test_a_nul_character_is_set_aside(fresh_db):
    rejected, _ = _saved_with_one_bad_row(fresh_db.engine, {"category": "Dru\x00gs",
                                                            "theme": EXPL})
    assert (rejected["column"], rejected["reason"]) == (
        "category", "category contains a NUL character")


def test_duplicate_pairs_are_dropped_and_counted(fresh_db):
    rows = [{"category": "Burglary", "theme": ACQ}, {"category": "burglary ", "theme": ACQ},
            {"category": "Burglary", "theme": "town centre & acquisitive crime"},
            {"category": "Burglary", "theme": ASB}]
    result = save_theme_mapping(fresh_db.engine, rows, WHO)
    assert result.duplicates == 2 and result.rejected.empty
    assert result.accepted["row"].tolist() == [1, 4]
    assert categories_for(fresh_db.engine, ACQ) == ["Burglary"]


def test_a_mapping_without_its_columns_is_refused(fresh_db):
    with pytest.raises(ThemeError, match="needs columns category and theme; missing theme"):
        save_theme_mapping(fresh_db.engine, [{"category": "Drugs", "priority": EXPL}], WHO)
    assert theme_mapping(fresh_db.engine).attrs["default"]


# ---------------------------------------------------------------- alerts


def example_checks() -> list[dict]:
    """The EXAMPLE checks file, read with the csv module."""
    with (EXAMPLES / "example_checks.csv").open(encoding="utf-8", newline="") as handle:
        rows = list(csv.DictReader(handle))
    for row in rows:
        row["at"] = datetime.strptime(f"{row['Date']} {row['Time']}", "%d/%m/%Y %H:%M")
    return rows


def spelthorne_assets() -> set[str]:
    """Spelthorne's EXAMPLE items (their ids start SBC-)."""
    with (EXAMPLES / "example_equipment.csv").open(encoding="utf-8", newline="") as handle:
        return {r["Asset ID"] for r in csv.DictReader(handle) if r["Asset ID"].startswith("SBC")}


def test_alerts_list_the_example_pspo_and_equipment(register_db):
    engine = register_db.engine
    seed_example_registers(engine)
    alerts = overview_alerts(engine, SPELTHORNE, date(2026, 11, 28))
    assert list(alerts.columns[:3]) == ["kind", "severity", "message"]
    by_kind = {kind: group for kind, group in alerts.groupby("kind")}
    # the Staines riverside order expires on 18 December 2026 and was last reviewed on
    # 29 September 2026 with a 42-day cadence (data/sample/registers/example_pspos.geojson)
    [expiring] = by_kind["PSPO expiring"].to_dict("records")
    assert expiring["subject"] == "EXAMPLE-SBC-PSPO-1" and expiring["severity"] == "high"
    assert "expires in 20 days, on 18 December 2026" in expiring["message"]
    [review] = by_kind["PSPO review overdue"].to_dict("records")
    assert "overdue for review by 18 days (it was due on 10 November 2026)" in review["message"]
    # equipment: the last check of each item, read from the checks file
    last = {}
    for row in sorted(example_checks(), key=lambda r: r["at"]):
        last[row["Asset ID"]] = row
    attention = {a for a, r in last.items() if a in spelthorne_assets()
                 and r["Outcome"] != "serviceable" and r["Action"] != "replaced"}
    assert attention and set(by_kind["Equipment needs attention"]["subject"]) == attention
    assert (by_kind["Equipment needs attention"]["severity"] == "high").all()
    unchecked = spelthorne_assets() - {a for a, r in last.items() if r["at"] >= datetime(
        2026, 11, 1)}
    [due] = by_kind["Equipment not yet checked"].to_dict("records")
    assert set(due["subject"].split("; ")) == unchecked
    assert due["message"].startswith(f"{len(unchecked)} of 41 items not yet checked this month "
                                     "(November 2026)")
    assert "Equipment missed last month" not in by_kind  # October: every item was checked
    assert alerts["example"].all()
    assert alerts["severity"].tolist() == sorted(
        alerts["severity"], key=["high", "medium", "low"].index)
    # Runnymede's order was extended to 2029 and reviewed on 20 October: nothing due yet
    runnymede = overview_alerts(engine, "E07000212", date(2026, 11, 28))
    assert not runnymede["kind"].str.startswith("PSPO").any()


def test_alerts_after_expiry_and_a_missed_month(register_db):
    engine = register_db.engine
    seed_example_registers(engine)
    alerts = overview_alerts(engine, SPELTHORNE, date(2026, 12, 20))
    [expired] = alerts[alerts["kind"] == "PSPO expired"].to_dict("records")
    assert "expired on 18 December 2026, 2 days ago: it can no longer be enforced" in \
        expired["message"]
    assert "PSPO expiring" not in set(alerts["kind"])
    checked_in_november = {r["Asset ID"] for r in example_checks()
                           if r["at"] >= datetime(2026, 11, 1)}
    [missed] = alerts[alerts["kind"] == "Equipment missed last month"].to_dict("records")
    assert set(missed["subject"].split("; ")) == spelthorne_assets() - checked_in_november
    assert "not checked last month (November 2026)" in missed["message"]


# ---------------------------------------------------------------- command line


def test_cli_themes_export_import_show_and_reset(fresh_db, tmp_path):
    runner = CliRunner()
    env = {"HOTSPOTS_DATABASE_URL": fresh_db.url}
    out = tmp_path / "mapping.csv"
    done = runner.invoke(cli, ["themes", "export", "--out", str(out)], env=env)
    assert done.exit_code == 0, done.output
    assert f"of the default mapping to {out}" in done.output
    with out.open(encoding="utf-8", newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert {"category": "Robbery", "theme": SV} in rows and len(rows) == len(default_mapping())

    edited = tmp_path / "edited.csv"
    with edited.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["category", "theme"])
        writer.writerows([["Drugs", WATER], ["", SV], ["Burglary", "Burglary"],
                          ["Drugs", WATER], ["Shoplifting", ACQ]])
    done = runner.invoke(cli, ["themes", "import", str(edited)], env=env)
    assert done.exit_code == 0, done.output
    assert "2 row(s) kept, 2 set aside, 1 duplicate(s) dropped" in done.stdout
    assert "edited.csv:3:category: category is blank" in done.stderr
    assert "edited.csv:4:theme: 'Burglary' is not a priority theme" in done.stderr

    done = runner.invoke(cli, ["themes", "show", "--json"], env=env)
    shown = json.loads(done.stdout)
    assert not shown["default"] and shown["updated_by"].endswith("(command line)")
    assert {(r["category"], r["theme"]) for r in shown["rows"]} == {
        ("Drugs", WATER), ("Shoplifting", ACQ)}
    done = runner.invoke(cli, ["themes", "show"], env=env)
    assert f"{HATE}: (no category: shows nothing)" in done.output

    again = runner.invoke(cli, ["themes", "import", str(edited), "--json"], env=env)
    assert json.loads(again.stdout)["unchanged"] is True

    done = runner.invoke(cli, ["themes", "reset"], env=env)
    assert "Removed 2 saved row(s)" in done.output
    assert theme_mapping(fresh_db.engine).attrs["default"]


def test_cli_import_of_only_bad_rows_fails_without_a_traceback(fresh_db, tmp_path):
    bad = tmp_path / "bad.csv"
    bad.write_text("category,theme\nDrugs,Terrorism\n", encoding="utf-8")
    done = CliRunner().invoke(cli, ["themes", "import", str(bad)],
                              env={"HOTSPOTS_DATABASE_URL": fresh_db.url})
    assert done.exit_code == 1 and "nothing saved" in done.stdout
    wrong = tmp_path / "wrong.csv"
    wrong.write_text("crime type,priority\nDrugs,ASB\n", encoding="utf-8")
    done = CliRunner().invoke(cli, ["themes", "import", str(wrong)],
                              env={"HOTSPOTS_DATABASE_URL": fresh_db.url})
    assert done.exit_code == 1 and "Traceback" not in done.output
    assert "needs columns category and theme" in done.output


def test_cli_overview_prints_the_theme_table(sample_db, raw):
    runner = CliRunner()
    env = {"HOTSPOTS_DATABASE_URL": sample_db.url}
    done = runner.invoke(cli, ["overview", "--area", "Spelthorne", "--month", "2023-12"],
                         env=env)
    assert done.exit_code == 0, done.output
    lines = done.output.splitlines()
    assert lines[0].startswith("Spelthorne: priority themes, 2023-12; rolling 12 months")
    [asb] = [line for line in lines if line.startswith(ASB)]
    assert asb.split()[2:4] == [str(raw_count(raw, [m], POLICE_THEMES[ASB]))
                                for m in ("2023-12", "2023-11")]
    assert "Alerts: none" in done.output  # no registers in this database
    done = runner.invoke(cli, ["overview", "--area", "Spelthorne", "--month", "2024-01",
                               "--months", "6", "--target", "ASB=reduce:10", "--json",
                               "--no-alerts"], env=env)
    out = json.loads(done.stdout)
    row = next(r for r in out["rows"] if r["theme"] == ASB)
    assert row["target"] == "reduce by 10%" and out["complete"] and "alerts" not in out
    done = runner.invoke(cli, ["overview", "--area", "Nowhere", "--month", "2024-01"], env=env)
    assert done.exit_code == 1 and "no area called 'Nowhere'" in done.output
    assert "Traceback" not in done.output
