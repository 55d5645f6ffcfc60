"""The ``osce-kg parse`` command: prints what extraction reads from saved release files."""

from __future__ import annotations

import json
from pathlib import Path

import click

from kg.extraction.records import MENTION_KEYS, Mention, ReleaseRecord, field_label
from kg.settings import Settings


@click.command("parse")
@click.argument(
    "files", nargs=-1, required=True, type=click.Path(exists=True, dir_okay=False, path_type=Path)
)
@click.option(
    "--json", "as_json", is_flag=True, help="Print one JSON object per release (JSON Lines)."
)
@click.pass_context
def parse_command(ctx: click.Context, files: tuple[Path, ...], as_json: bool) -> None:
    """Parse saved release FILEs (page text, HTML, listing pages, JSON Lines); print each release.

    Exit status: 0 every release parsed, 1 some release is unusable (its `error` says why),
    2 usage error (e.g. a missing file).
    """
    # imported here, not above: extraction takes a sixth of a second to import, which every
    # other command (and --help) would pay
    from kg.extraction.linking import default_gazetteer
    from kg.extraction.pipeline import read_releases

    gazetteer = default_gazetteer(Settings.from_environ().base)
    failed = 0
    for path in files:
        try:
            records = read_releases(path, gazetteer)
        except OSError as error:
            click.echo(f"Error: {path}: cannot read the file ({error.strerror})", err=True)
            ctx.exit(2)
        for record in records:
            failed += record.error is not None
            if as_json:
                click.echo(json.dumps(record.to_json(), ensure_ascii=False))
            else:
                click.echo(describe_record(record))
    if not as_json:
        click.echo(f"{failed} unusable release(s)" if failed else "all releases parsed")
    ctx.exit(1 if failed else 0)


def describe_record(record: ReleaseRecord) -> str:
    """A release as a few readable lines."""
    where = record.source_file + (
        f" (item {record.item + 1})" if record.reader in {"listing", "jsonl"} else ""
    )
    lines = [f"== {where} [{record.reader}]"]
    if record.error:
        lines.append(f"  ERROR: {record.error}")
    lines.append(f"  {record.content_type or '?'}: {record.title or '(no title)'}")
    lines.append(f"  date {record.date or '?'}, place {record.place or '?'}")
    for key in MENTION_KEYS:
        mentions: tuple[Mention, ...] = getattr(record, key)
        if mentions:
            lines.append(
                f"  {field_label(key)}: "
                + ", ".join(m.label + ("" if m.linked_iri else " (unlinked)") for m in mentions)
            )
    for person in record.persons:
        title = ", ".join(x for x in (person.role, person.organisation) if x)
        lines.append(
            f"  person: {person.name}"
            + (f" ({title})" if title else "")
            + (", quoted" if person.quoted else "")
        )
    if record.event:
        event = record.event
        span = (
            event.start_date
            if event.start_date == event.end_date
            else f"{event.start_date}..{event.end_date}"
        )
        name = f" {event.name!r}" if event.name else ""
        lines.append(f"  event: {event.type}{name}, {span}, {event.place or '?'}")
    lines.extend(f"  warning: {warning}" for warning in record.warnings)
    return "\n".join(lines)
