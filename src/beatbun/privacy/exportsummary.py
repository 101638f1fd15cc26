"""The human-readable parts of an export: `summary.html` and `README.txt`, in the person's language.

The summary is rendered from `web/templates/privacy/export_summary.html` outside any request,
so it has its own Jinja2 environment over the same folder, with autoescaping on like the pages'.
"""

from __future__ import annotations

from datetime import datetime
from functools import cache
from pathlib import Path

import jinja2

from beatbun.i18n import N_, translate, translations_for
from beatbun.privacy.exportschema import ExportData

TEMPLATES_DIR = Path(__file__).resolve().parent.parent / "web" / "templates"
SUMMARY_TEMPLATE = "privacy/export_summary.html"
README = N_(
    "Your data at %(site)s, as of %(when)s (UTC)\n\n"
    "summary.html  An overview to read in any web browser.\n"
    "data.json     Everything we hold about your account, complete and machine-readable.\n"
    "schema.json   The JSON Schema that data.json follows (also at %(schema_url)s).\n"
    "tracks/       Each track's audio, as we store it, and its details as JSON.\n\n"
    "Secrets such as your password's hash are left out; data.json lists them under"
    " secrets_left_out. Times are in UTC.\n\n"
    "You can ask us for a new copy at any time on your privacy page: %(link)s"
)


def render_summary(data: ExportData, *, language: str, site_name: str) -> str:
    template = _environment(language).get_template(SUMMARY_TEMPLATE)
    return template.render(data=data, lang=language, site_name=site_name)


def readme_text(data: ExportData, *, language: str, site_name: str, privacy_page: str) -> str:
    return (
        translate(
            language,
            README,
            {
                "site": site_name,
                "when": _utc(data.generated_at),
                "schema_url": data.schema_url,
                "link": privacy_page,
            },
        )
        + "\n"
    )


@cache
def _environment(language: str) -> jinja2.Environment:
    environment = jinja2.Environment(
        loader=jinja2.FileSystemLoader(TEMPLATES_DIR),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        extensions=["jinja2.ext.i18n"],
    )
    environment.install_gettext_translations(  # type: ignore[attr-defined]
        translations_for(language), newstyle=True
    )
    environment.filters["utc"] = _utc
    environment.filters["duration"] = _duration
    environment.filters["money"] = _money
    return environment


def _utc(when: datetime | None) -> str:
    return "" if when is None else when.strftime("%Y-%m-%d %H:%M")


def _duration(seconds: float) -> str:
    whole = round(seconds)
    return f"{whole // 60}:{whole % 60:02d}"


def _money(amount: int, currency: str) -> str:
    """An amount in the currency's smallest unit, as `12.00 EUR`."""
    return f"{amount / 100:.2f} {currency.upper()}"
