"""Config: defaults, unknown keys refused by name, the shipped file valid."""

from __future__ import annotations

import pytest

import salesops_analysis as so
from salesops_analysis.config import config_from_dict
from tests.conftest import DEMO_CONFIG, IBM_CONFIG


def test_builtin_defaults():
    cfg = so.Config()
    assert cfg.reporting_currency == "USD"
    assert cfg.kind("invoices").default_currency == "USD"
    assert cfg.aging_edges == [30, 60, 90]


@pytest.mark.parametrize(
    ("raw", "key"),
    [
        ({"reporting_curency": "EUR"}, "reporting_curency"),
        ({"kinds": {"invoices": {"colums": {}}}}, "kinds.invoices.colums"),
        ({"kinds": {"bills": {}}}, "kinds.bills"),
        ({"defaults": {"decimals": ","}}, "defaults.decimals"),
        ({"aging": {"bucket": []}}, "aging.bucket"),
    ],
)
def test_unknown_key_is_an_error_naming_it(raw, key):
    with pytest.raises(so.ConfigError, match=f"unknown config key '{key}'"):
        config_from_dict(raw)


def test_same_decimal_and_thousands_separator_is_refused():
    with pytest.raises(so.ConfigError, match="same"):
        config_from_dict({"defaults": {"decimal": ",", "thousands": ","}})


def test_shipped_configs_load(tmp_path):
    assert so.load_config(DEMO_CONFIG).kind("invoices").columns["Grand Total"] == "amount"
    assert so.load_config(IBM_CONFIG).kind("invoices").columns["invoiceNumber"] == "invoice_id"


def test_bad_yaml_names_the_file(tmp_path):
    p = tmp_path / "salesops.yml"
    p.write_text("kinds: [unclosed\n")
    with pytest.raises(so.ConfigError, match="salesops.yml: not valid YAML"):
        so.load_config(p)


def test_defaults_apply_to_every_kind_and_kinds_override():
    cfg = config_from_dict(
        {
            "defaults": {"decimal": ",", "thousands": "."},
            "kinds": {"orders": {"decimal": ".", "thousands": ""}},
        }
    )
    assert cfg.kind("invoices").decimal == ","
    assert cfg.kind("orders").decimal == "."
