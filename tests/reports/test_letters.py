"""Dunning letters: who is due one, what it says, and templates a user can override."""

from __future__ import annotations

import json

import pytest

import salesops_analysis as so
from salesops_analysis.config import config_from_dict
from salesops_analysis.metrics import Tables
from salesops_analysis.reports.letters import letters_due, stage_template, write_letters
from salesops_analysis.risk.accounts import account_worklist
from tests.frames import canonical, worklist_frame

DAY = "2025-06-30"
EVIL = "<script>alert(1)</script>"


def _worklist():
    return worklist_frame(
        [
            # R: two overdue invoices (reminder stage: oldest 10 days) and one not due
            {"customer_id": "R", "customer_name": EVIL, "invoice_id": "R1",
             "open_amount_reporting": 100.0, "open_amount": 90.0, "currency": "EUR",
             "due_date": "2025-06-20", "days_past_due": 10},
            {"customer_id": "R", "customer_name": EVIL, "invoice_id": "R2",
             "open_amount_reporting": 50.0, "open_amount": 45.5, "currency": "EUR",
             "due_date": "2025-06-25", "days_past_due": 5},
            {"customer_id": "R", "customer_name": EVIL, "invoice_id": "R3",
             "open_amount_reporting": 500.0, "due_date": "2025-07-25", "days_past_due": -25},
            # D: final notice, but in dispute
            {"customer_id": "D", "invoice_id": "D1", "open_amount_reporting": 70.0,
             "due_date": "2025-05-01", "days_past_due": 60},
            # P: final notice, with a pending promise
            {"customer_id": "P", "invoice_id": "P1", "open_amount_reporting": 80.0,
             "due_date": "2025-05-01", "days_past_due": 60},
            # F: final notice (entered it 15 days ago), contacted 20 days ago: a letter is due
            {"customer_id": "F", "invoice_id": "F1", "open_amount_reporting": 90.0,
             "due_date": "2025-05-01", "days_past_due": 60},
            # G: escalate (entered 5 days ago), contacted 2 days ago: worked already, no letter
            {"customer_id": "G", "invoice_id": "G1", "open_amount_reporting": 95.0,
             "due_date": "2025-04-11", "days_past_due": 80},
            # N: nothing overdue
            {"customer_id": "N", "invoice_id": "N1", "open_amount_reporting": 99.0,
             "due_date": "2025-07-11", "days_past_due": -11},
        ]
    )  # fmt: skip


def _tables():
    acts = canonical(
        "activities",
        [
            {"activity_id": "A1", "activity_date": "2025-06-01", "owner": "Ann", "type": "note",
             "customer_id": "D", "invoice_id": "D1", "outcome": "dispute"},
            {"activity_id": "A2", "activity_date": "2025-06-10", "owner": "Ann", "type": "call",
             "customer_id": "P", "invoice_id": "P1", "outcome": "promise_to_pay",
             "promised_date": "2025-07-03"},
            {"activity_id": "A3", "activity_date": "2025-06-10", "owner": "Ann", "type": "call",
             "customer_id": "F", "invoice_id": "F1", "outcome": "no_answer"},
            {"activity_id": "A4", "activity_date": "2025-06-28", "owner": "Ann", "type": "email",
             "customer_id": "G", "invoice_id": "G1"},
        ],
    )  # fmt: skip
    return Tables(activities=acts)


def _accounts(config=None):
    return account_worklist(_worklist(), _tables(), config or so.Config(), DAY)


def test_disputes_and_pending_promises_get_no_letter():
    due = letters_due(_accounts(), DAY)
    assert sorted(due["customer_id"]) == ["F", "R"]
    stages = dict(zip(due["customer_id"], due["letter_stage"], strict=True))
    assert stages == {"R": "reminder", "F": "final notice"}
    # without the dispute and the promise, D and P would be due
    acc = _accounts()
    acc["in_dispute"] = False
    acc["promise_pending"] = False
    assert sorted(letters_due(acc, DAY)["customer_id"]) == ["D", "F", "P", "R"]


def test_letters_list_the_overdue_invoices_and_totals(tmp_path):
    written = write_letters(_accounts(), _worklist(), DAY, tmp_path / "letters")
    assert written.letters == 2
    assert written.by_stage == {"reminder": 1, "final notice": 1}
    index = json.loads((tmp_path / "letters" / "index.json").read_text())["letters"]
    by_id = {r["customer_id"]: r for r in index}
    assert by_id["R"]["total_overdue"] == {"EUR": 135.5}
    text = (tmp_path / "letters" / by_id["R"]["files"][0]).read_text()
    assert "R1" in text and "R2" in text and "R3" not in text  # R3 is not overdue
    assert "Total overdue: 135.50 EUR" in text and "Payment reminder" in text
    assert "(10 days overdue): 90.00 EUR" in text
    final = (tmp_path / "letters" / "F.html").read_text()
    assert "Final notice" in final and "90.00 USD" in final
    assert sorted(p.name for p in (tmp_path / "letters").iterdir()) == [
        "F.html",
        "F.txt",
        "R.html",
        "R.txt",
        "index.html",
        "index.json",
    ]


def test_names_are_escaped_in_html_and_kept_as_text_in_txt(tmp_path):
    write_letters(_accounts(), _worklist(), DAY, tmp_path / "l")
    page = (tmp_path / "l" / "R.html").read_text()
    assert EVIL not in page and "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert "<script" not in page
    assert EVIL in (tmp_path / "l" / "R.txt").read_text()
    assert EVIL not in (tmp_path / "l" / "index.html").read_text()


def test_templates_override_from_the_config_folder(tmp_path):
    folder = tmp_path / "my_letters"
    folder.mkdir()
    (folder / "reminder.txt.j2").write_text(
        "Hello {{ customer.name }}: {{ totals[0].amount | money }} {{ totals[0].currency }}\n"
    )
    (folder / "base.html.j2").write_text("<p>OWN LETTERHEAD {{ customer.name }}</p>")
    config_file = tmp_path / "salesops.yml"
    config_file.write_text("letters:\n  templates: my_letters\n")  # relative to the config
    cfg = so.load_config(config_file)
    assert cfg.letter_templates == folder.resolve()
    write_letters(_accounts(cfg), _worklist(), DAY, tmp_path / "out", cfg)
    assert (tmp_path / "out" / "R.txt").read_text() == f"Hello {EVIL}: 135.50 EUR\n"
    assert (tmp_path / "out" / "R.html").read_text() == (
        "<p>OWN LETTERHEAD &lt;script&gt;alert(1)&lt;/script&gt;</p>"
    )
    # a template not overridden is the shipped one
    assert "Final notice before further action" in (tmp_path / "out" / "F.txt").read_text()


def test_a_broken_template_is_a_clear_error(tmp_path):
    folder = tmp_path / "t"
    folder.mkdir()
    (folder / "reminder.txt.j2").write_text("{{ customer.nmae }}")
    cfg = config_from_dict({"letters": {"templates": str(folder)}})
    with pytest.raises(so.ReportError, match=r"reminder.txt.j2: .*nmae"):
        write_letters(_accounts(cfg), _worklist(), DAY, tmp_path / "out", cfg)
    with pytest.raises(so.ConfigError, match="no folder"):
        config_from_dict({"letters": {"templates": str(tmp_path / "missing")}})


def test_a_stage_without_template_gets_no_letter_and_is_named(tmp_path):
    cfg = config_from_dict(
        {
            "dunning": [
                {"stage": "not due", "from_days": -10000},
                {"stage": "Erinnerung", "from_days": 1},
                {"stage": "final notice", "from_days": 45},
            ]
        }
    )
    acc = _accounts(cfg)
    written = write_letters(acc, _worklist(), DAY, tmp_path / "l", cfg)
    assert written.by_stage == {"final notice": 1}
    assert written.stages_without_template == ["Erinnerung"]
    assert "Erinnerung" in written.line()
    assert stage_template("Final Notice!") == "final_notice"


def test_no_accounts_no_letters(tmp_path):
    acc = account_worklist(worklist_frame([]), Tables(), so.Config(), DAY)
    written = write_letters(acc, worklist_frame([]), DAY, tmp_path / "l")
    assert written.letters == 0
    assert json.loads((tmp_path / "l" / "index.json").read_text())["letters"] == []
