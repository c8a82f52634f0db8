"""Configuration: ``salesops.yml``, validated, with defaults that fit the demo data.

Every option is documented in ``docs/config.md`` and in the shipped ``salesops.yml``. Unknown keys
are refused with a message naming the key, so a typo never silently falls back to a default.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from ._errors import ConfigError
from .schemas import KINDS

__all__ = ["Collector", "Company", "Config", "KindOptions", "load_config"]

DEFAULT_DATE_FORMATS = (
    "%Y-%m-%d",
    "%Y-%m-%d %H:%M:%S",
    "%Y-%m-%d %H:%M",
    "%Y-%m-%dT%H:%M:%S",
    "%Y%m%d",
)
# %y before %Y: DuckDB's %Y would read the "20" of "12/19/20" as the year 20, while %y does not
# read "12/19/2020" at all.
DAY_FIRST_FORMATS = ("%d/%m/%y", "%d/%m/%Y", "%d.%m.%Y", "%d-%m-%Y", "%d/%m/%Y %H:%M")
MONTH_FIRST_FORMATS = ("%m/%d/%y", "%m/%d/%Y", "%m/%d/%Y %H:%M")
# Month names are unambiguous, so they are tried after the numeric forms whatever day_first says:
# "Jan 28 2021", "28-Nov-17", "December 19, 2020", "19 Dec 2020". Two-digit years (%y) pivot as
# POSIX strptime does: 00-68 are 2000-2068, 69-99 are 1969-1999.
MONTH_NAME_FORMATS = (
    "%b %d %Y",
    "%b %d, %Y",
    "%B %d %Y",
    "%B %d, %Y",
    "%d-%b-%y",
    "%d-%b-%Y",
    "%d %b %Y",
    "%d %B %Y",
)

# Built-in words for the enumerated columns (lower-cased source word -> canonical value).
DEFAULT_VALUE_MAPS: dict[str, dict[str, dict[str, str]]] = {
    "orders": {
        "status": {
            "new": "received",
            "open": "received",
            "draft": "received",
            "to deliver": "processing",
            "in process": "processing",
            "in progress": "processing",
            "to deliver and bill": "processing",
            "hold": "on_hold",
            "on hold": "on_hold",
            "blocked": "on_hold",
            "delivered": "shipped",
            "dispatched": "shipped",
            "to bill": "shipped",
            "completed": "invoiced",
            "billed": "invoiced",
            "closed": "invoiced",
            "canceled": "cancelled",
            "void": "cancelled",
        }
    },
    "invoices": {
        "status": {
            "unpaid": "open",
            "overdue": "open",
            "outstanding": "open",
            "submitted": "open",
            "not paid": "open",
            "partly paid": "partially_paid",
            "partial": "partially_paid",
            "partially paid": "partially_paid",
            "in_payment": "partially_paid",
            "settled": "paid",
            "closed": "paid",
            "in dispute": "disputed",
            "written off": "written_off",
            "write off": "written_off",
            "bad debt": "written_off",
            "credit note": "credited",
            "return": "credited",
            "reversed": "credited",
            "cancelled": "credited",
        }
    },
    "activities": {
        "type": {
            "phone": "call",
            "phone call": "call",
            "mail": "email",
            "e-mail": "email",
            "visit": "meeting",
            "comment": "note",
            "follow up": "follow_up",
            "follow-up": "follow_up",
            "followup": "follow_up",
            "reminder": "follow_up",
            "dunning": "follow_up",
        }
    },
}

TRUE_VALUES = ("yes", "y", "true", "t", "1", "x", "disputed")
FALSE_VALUES = ("no", "n", "false", "f", "0", "")


@dataclass
class KindOptions:
    """How to read one kind of export (see ``docs/config.md``)."""

    columns: dict[str, str] = field(default_factory=dict)
    file_patterns: list[str] = field(default_factory=list)
    date_formats: list[str] | None = None
    day_first: bool = False
    decimal: str = "."
    thousands: str = ","
    currency_symbols: list[str] = field(default_factory=lambda: ["$", "€", "£", "¥"])
    true_values: list[str] = field(default_factory=lambda: list(TRUE_VALUES))
    false_values: list[str] = field(default_factory=lambda: list(FALSE_VALUES))
    value_maps: dict[str, dict[str, str]] = field(default_factory=dict)
    default_currency: str | None = None
    encoding: str = "auto"
    delimiter: str = "auto"
    sheet: str | int | None = None
    header_row: str | int = "auto"
    lines: dict[str, list[str]] | None = None
    #: The file is the complete list of open items on its snapshot date (docs/snapshots.md).
    snapshot: bool = False
    section_column: str | None = None

    def formats(self) -> list[str]:
        """Return the date formats tried, in order."""
        if self.date_formats:
            return list(self.date_formats)
        extra = DAY_FIRST_FORMATS if self.day_first else MONTH_FIRST_FORMATS
        return [*DEFAULT_DATE_FORMATS, *extra, *MONTH_NAME_FORMATS]

    @property
    def line_sums(self) -> list[str] | None:
        """Return the columns summed over a document's lines, or None for one row per document."""
        return None if self.lines is None else list(self.lines.get("sum") or [])


@dataclass(frozen=True)
class Collector:
    """A collector (``collectors:``): daily capacity in calls, and the customers' segments
    and countries they cover (empty: every customer)."""

    name: str
    capacity: int
    segments: tuple[str, ...] = ()
    countries: tuple[str, ...] = ()


@dataclass(frozen=True)
class Company:
    """The letterhead of statements and letters (``company:``)."""

    name: str = ""
    address: tuple[str, ...] = ()
    email: str = ""
    phone: str = ""
    tax_id: str = ""
    payment_details: str = ""


@dataclass
class Config:
    """The whole configuration; ``Config()`` is the built-in default."""

    reporting_currency: str = "USD"
    kinds: dict[str, KindOptions] = field(default_factory=lambda: {k: KindOptions() for k in KINDS})
    fx_rates: dict[str, float] = field(default_factory=dict)
    grace_days: int = 0
    aging_basis: str = "due_date"
    aging_edges: list[int] = field(default_factory=lambda: [30, 60, 90])
    cei_period_days: int = 30
    sla_days: dict[str, int] = field(
        default_factory=lambda: {"received": 2, "processing": 7, "on_hold": 5, "shipped": 3}
    )
    dunning: list[dict[str, Any]] = field(
        default_factory=lambda: [
            {"stage": "not due", "from_days": -10_000},
            {"stage": "reminder", "from_days": 1},
            {"stage": "call", "from_days": 15},
            {"stage": "final notice", "from_days": 45},
            {"stage": "escalate", "from_days": 75},
        ]
    )
    model_categorical: list[str] = field(default_factory=lambda: ["segment", "country"])
    model_test_share: float = 0.3
    collectors: list[Collector] = field(default_factory=list)
    company: Company = field(default_factory=Company)
    letter_templates: Path | None = None
    source: str = "built-in defaults"

    def __post_init__(self) -> None:
        for options in self.kinds.values():
            if options.default_currency is None:
                options.default_currency = self.reporting_currency

    def kind(self, kind: str) -> KindOptions:
        """Return the reading options of one kind."""
        return self.kinds[kind]


_KIND_KEYS = {f for f in KindOptions.__dataclass_fields__}
_TOP_KEYS = {
    "reporting_currency",
    "defaults",
    "kinds",
    "fx_rates",
    "grace_days",
    "aging",
    "cei",
    "sla_days",
    "dunning",
    "model",
    "collectors",
    "company",
    "letters",
}


def _check_keys(given: dict, allowed: set[str], where: str, path: str) -> None:
    for key in given:
        if key not in allowed:
            raise ConfigError(
                f"{path}: unknown config key '{where}{key}' (allowed: {', '.join(sorted(allowed))})"
            )


def _kind_options(raw: dict, where: str, path: str, base: dict | None = None) -> dict:
    if not isinstance(raw, dict):
        raise ConfigError(f"{path}: '{where}' must be a mapping of options")
    _check_keys(raw, _KIND_KEYS, where + ".", path)
    merged = copy.deepcopy(base or {})
    for key, value in raw.items():
        if key in ("columns", "value_maps") and value is not None and not isinstance(value, dict):
            raise ConfigError(f"{path}: '{where}.{key}' must be a mapping")
        if (
            key
            in ("file_patterns", "date_formats", "currency_symbols", "true_values", "false_values")
            and value is not None
            and not isinstance(value, list)
        ):
            raise ConfigError(f"{path}: '{where}.{key}' must be a list")
        if key in ("decimal", "thousands") and not isinstance(value, str):
            raise ConfigError(f"{path}: '{where}.{key}' must be a string such as ',' or '.'")
        if key == "header_row" and not (
            value == "auto"
            or (isinstance(value, int) and not isinstance(value, bool) and value > 0)
        ):
            raise ConfigError(
                f"{path}: '{where}.header_row' must be auto or a line number (1, 2, ...)"
            )
        if key == "snapshot" and (
            not isinstance(value, bool) or value and where != "kinds.invoices"
        ):
            raise ConfigError(
                f"{path}: '{where}.snapshot' must be true or false, under kinds.invoices"
            )
        if key == "section_column" and value is not None and not isinstance(value, str):
            raise ConfigError(f"{path}: '{where}.section_column' must be a column name")
        if key == "lines" and value is not None:
            if not isinstance(value, dict) or set(value) - {"sum"}:
                raise ConfigError(
                    f"{path}: '{where}.lines' must be a mapping like {{sum: [amount]}}"
                )
            if not isinstance(value.get("sum") or [], list):
                raise ConfigError(f"{path}: '{where}.lines.sum' must be a list of column names")
            value = {"sum": [str(c) for c in value.get("sum") or []]}
        merged[key] = value
    if merged.get("decimal") and merged.get("decimal") == merged.get("thousands"):
        raise ConfigError(f"{path}: '{where}': decimal and thousands separators are the same")
    return merged


def load_config(path: str | Path | None = None) -> Config:
    """Return the configuration read from ``path``.

    Parameters
    ----------
    path : str or Path, optional
        A YAML file. ``None`` uses ``salesops.yml`` in the current folder when it exists, else the
        built-in defaults.

    Raises
    ------
    ConfigError
        The file is missing, is not YAML, or has an unknown key or a value of the wrong type.

    Examples
    --------
    >>> load_config(None).reporting_currency
    'USD'
    """
    if path is None:
        if not Path("salesops.yml").exists():
            return Config()
        path = Path("salesops.yml")
    path = Path(path)
    if not path.is_file():
        raise ConfigError(f"{path}: config file not found")
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except (yaml.YAMLError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{path}: not valid YAML ({str(exc).splitlines()[0]})") from None
    if not isinstance(raw, dict):
        raise ConfigError(f"{path}: expected a mapping of options at the top level")
    return config_from_dict(raw, source=str(path))


def config_from_dict(raw: dict, *, source: str = "<dict>") -> Config:
    """Return a :class:`Config` built from an already-parsed mapping (same rules as the file)."""
    _check_keys(raw, _TOP_KEYS, "", source)
    cfg = Config(source=source)
    defaults = _kind_options(raw.get("defaults") or {}, "defaults", source)
    kinds_raw = raw.get("kinds") or {}
    if not isinstance(kinds_raw, dict):
        raise ConfigError(f"{source}: 'kinds' must map a kind name to its options")
    for kind in kinds_raw:
        if kind not in KINDS:
            raise ConfigError(
                f"{source}: unknown config key 'kinds.{kind}' (kinds: {', '.join(KINDS)})"
            )
    for kind in KINDS:
        opts = _kind_options(kinds_raw.get(kind) or {}, f"kinds.{kind}", source, defaults)
        maps = copy.deepcopy(DEFAULT_VALUE_MAPS.get(kind, {}))
        for col, words in (opts.pop("value_maps", None) or {}).items():
            if not isinstance(words, dict):
                raise ConfigError(f"{source}: 'kinds.{kind}.value_maps.{col}' must be a mapping")
            maps.setdefault(col, {}).update(
                {str(k).strip().lower(): str(v) for k, v in words.items()}
            )
        opts["columns"] = {str(k): str(v) for k, v in (opts.get("columns") or {}).items()}
        cfg.kinds[kind] = KindOptions(**opts, value_maps=maps)
    if "reporting_currency" in raw:
        cfg.reporting_currency = str(raw["reporting_currency"]).upper()
    for kind in KINDS:
        if cfg.kinds[kind].default_currency is None:
            cfg.kinds[kind].default_currency = cfg.reporting_currency
    if "fx_rates" in raw:
        if not isinstance(raw["fx_rates"], dict):
            raise ConfigError(f"{source}: 'fx_rates' must map a currency code to a rate")
        cfg.fx_rates = {str(k).upper(): float(v) for k, v in raw["fx_rates"].items()}
    if "grace_days" in raw:
        cfg.grace_days = int(raw["grace_days"])
    aging = raw.get("aging") or {}
    _check_keys(aging, {"basis", "edges"}, "aging.", source)
    if "basis" in aging:
        if aging["basis"] not in ("due_date", "invoice_date"):
            raise ConfigError(f"{source}: 'aging.basis' must be due_date or invoice_date")
        cfg.aging_basis = aging["basis"]
    if "edges" in aging:
        edges = [int(e) for e in aging["edges"]]
        if edges != sorted(set(edges)) or not edges or edges[0] <= 0:
            raise ConfigError(f"{source}: 'aging.edges' must be increasing positive day counts")
        cfg.aging_edges = edges
    cei = raw.get("cei") or {}
    _check_keys(cei, {"period_days"}, "cei.", source)
    if "period_days" in cei:
        cfg.cei_period_days = int(cei["period_days"])
    if "sla_days" in raw:
        cfg.sla_days = {str(k): int(v) for k, v in raw["sla_days"].items()}
    model = raw.get("model") or {}
    _check_keys(model, {"categorical", "test_share"}, "model.", source)
    if "categorical" in model:
        if not isinstance(model["categorical"], list):
            raise ConfigError(f"{source}: 'model.categorical' must be a list of column names")
        cfg.model_categorical = [str(c) for c in model["categorical"]]
    if "test_share" in model:
        share = float(model["test_share"])
        if not 0.05 <= share <= 0.5:
            raise ConfigError(f"{source}: 'model.test_share' must be between 0.05 and 0.5")
        cfg.model_test_share = share
    if "dunning" in raw:
        ladder = raw["dunning"]
        if not isinstance(ladder, list) or not all(
            isinstance(s, dict) and set(s) == {"stage", "from_days"} for s in ladder
        ):
            raise ConfigError(f"{source}: 'dunning' must be a list of {{stage, from_days}} items")
        cfg.dunning = sorted(ladder, key=lambda s: s["from_days"])
    _accounts_options(raw, cfg, source)
    return cfg


def _text_list(value, where: str, source: str) -> tuple[str, ...]:
    if value is None:
        return ()
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list):
        raise ConfigError(f"{source}: '{where}' must be a list of texts")
    return tuple(str(v).strip() for v in value)


def _accounts_options(raw: dict, cfg: Config, source: str) -> None:
    """Read ``collectors:``, ``company:`` and ``letters:`` into ``cfg``."""
    collectors = raw.get("collectors")
    if collectors is not None:
        if not isinstance(collectors, list):
            raise ConfigError(f"{source}: 'collectors' must be a list of {{name, capacity}} items")
        seen: set[str] = set()
        for i, item in enumerate(collectors):
            where = f"collectors[{i}]"
            if not isinstance(item, dict):
                raise ConfigError(f"{source}: '{where}' must be a mapping with name and capacity")
            _check_keys(item, {"name", "capacity", "segments", "countries"}, where + ".", source)
            name = str(item.get("name") or "").strip()
            if not name:
                raise ConfigError(f"{source}: '{where}.name' is missing")
            if name.lower() in seen:
                raise ConfigError(f"{source}: collector '{name}' is listed twice")
            seen.add(name.lower())
            capacity = item.get("capacity")
            if isinstance(capacity, bool) or not isinstance(capacity, int) or capacity < 0:
                raise ConfigError(
                    f"{source}: '{where}.capacity' must be a whole number of calls a day, "
                    f"got {capacity!r}"
                )
            cfg.collectors.append(
                Collector(
                    name,
                    capacity,
                    _text_list(item.get("segments"), where + ".segments", source),
                    _text_list(item.get("countries"), where + ".countries", source),
                )
            )
    company = raw.get("company")
    if company is not None:
        if not isinstance(company, dict):
            raise ConfigError(f"{source}: 'company' must be a mapping (name, address, ...)")
        fields = set(Company.__dataclass_fields__)
        _check_keys(company, fields, "company.", source)
        values = {k: ("" if v is None else str(v)) for k, v in company.items() if k != "address"}
        address = _text_list(company.get("address"), "company.address", source)
        cfg.company = Company(**values, address=address)
    letters = raw.get("letters")
    if letters is not None:
        if not isinstance(letters, dict):
            raise ConfigError(f"{source}: 'letters' must be a mapping (templates: FOLDER)")
        _check_keys(letters, {"templates"}, "letters.", source)
        if letters.get("templates"):
            folder = Path(str(letters["templates"])).expanduser()
            # a relative folder is read next to the config file that names it
            if not folder.is_absolute() and Path(source).is_file():
                folder = Path(source).resolve().parent / folder
            if not folder.is_dir():
                raise ConfigError(f"{source}: 'letters.templates': no folder {folder}")
            cfg.letter_templates = folder
