"""The command line: import, rebuild, check, export, backup, restore, migrate.

Every command reads ``KB_DATA_DIR`` (and ``KB_DATABASE_URL``) like the server does.
"""

import json
import sys
import time
from contextlib import contextmanager
from datetime import datetime, timedelta, timezone
from pathlib import Path

import click
from tqdm import tqdm

from index import whoosh_compat
from index.alongside import stop_builder_server
from index.build import apply_changes, check, rebuild, repair
from index.generations import IndexBusyError
from indexer.context import open_knowledge_base
from indexer.customer_data import customer_group
from indexer.embed import backlog_line, embed_command
from indexer.importer import import_file
from indexer.rebuild_policy import PARALLEL_THRESHOLD, IndexAlongside, indexing_processes, rebuilds
from notify.delivery import DeliveryPolicy, deliver_all_due
from rules.customer_messages import CustomerMessagesError, parse_customer_messages_file
from rules.follow_ups import escalate_follow_ups
from rules.logic import apply_rules
from rules.parse import RulesFileError, parse_rules_file
from store.base import StoreUnavailableError
from store.records import public_record


@contextmanager
def progress_bar(description, unit="calls"):
    """A progress callback that draws a bar on a terminal and stays quiet elsewhere.

    :param description: the label before the bar.
    :returns: a context manager yielding ``callback(done, total)``.
    """
    bar = tqdm(desc=description, unit=f" {unit}", disable=not sys.stderr.isatty(), leave=False)

    def update(done, total):
        bar.total = total
        bar.n = done
        bar.refresh()

    try:
        yield update
    finally:
        bar.close()


@contextmanager
def knowledge_base():
    """Open the store and index named by the settings, turning failures into CLI errors."""
    try:
        kb = open_knowledge_base()
    except (StoreUnavailableError, ValueError) as error:
        raise click.ClickException(f"cannot open the store: {error}") from error
    try:
        yield kb
    finally:
        kb.close()


def bring_index_in_step(kb, changed, last_file=None):
    """Update the index after a write, rebuilding it when most of it changed.

    :param last_file: the ``FileImport`` of the write's last file, whose ``indexing`` (if any) is finished here.
    :returns: the store sequence number the index reflects.
    """
    try:
        with progress_bar("indexing") as progress:
            if last_file is not None and last_file.indexing is not None:
                try:
                    return last_file.indexing.finish(last_file.calls_written, progress)
                finally:
                    stop_builder_server()  # its builder's CPU time then counts as this command's children's
            if rebuilds(changed, kb.store.count()):
                return rebuild(kb.store, kb.home, progress, procs=indexing_processes(changed)).applied_seq
            return apply_changes(kb.store, kb.home, timeout=600, progress=progress)
    except IndexBusyError as error:
        raise click.ClickException(
            f"{error}; the store has the changes, run 'python -m indexer check --repair' once it is free"
        ) from error


def rules_in_force(kb):
    """The data folder's service rules, or a CLI error naming the line of a bad rules file."""
    try:
        return parse_rules_file(kb.home.root.parent)
    except RulesFileError as error:
        raise click.ClickException(f"{error} (fix the rules file; nothing was changed)") from error


def customer_messages_in_force(kb):
    """The data folder's customer messages, or a CLI error naming the line of a bad messages file."""
    try:
        return parse_customer_messages_file(kb.home.root.parent)
    except CustomerMessagesError as error:
        raise click.ClickException(f"{error} (fix the messages file; nothing was changed)") from error


@click.group()
def cli():
    """Manage the knowledge base: import calls, rebuild and check the index, export, back up."""
    try:
        whoosh_compat.install()
    except whoosh_compat.WhooshVersionError as error:
        raise click.ClickException(str(error)) from error


@cli.command("import")
@click.argument("paths", nargs=-1, required=True, type=click.Path(dir_okay=False, path_type=Path))
@click.option("--skip-invalid", is_flag=True, help="Store a file's valid rows even when some rows are bad.")
def import_command(paths, skip_invalid):
    """Import call records from .jsonl, .json or .csv files (each file whole or not at all)."""
    started = time.perf_counter()
    totals = {"inserted": 0, "updated": 0, "unchanged": 0, "skipped": 0, "history": 0, "feedback": 0}
    customers = {"inserted": 0, "updated": 0, "unchanged": 0}
    failed_files = 0
    with knowledge_base() as kb:
        rules = rules_in_force(kb)
        for number, path in enumerate(paths):
            alongside = IndexAlongside(kb) if number == len(paths) - 1 else None
            try:
                region = kb.settings["KB_PHONE_REGION"]
                outcome = import_file(
                    kb.store, path, skip_invalid=skip_invalid, rules=rules, region=region, index_alongside=alongside
                )
            except StoreUnavailableError as error:
                raise click.ClickException(f"{path}: {error}") from error
            for problem in outcome.problems:
                click.echo(f"error: {problem}", err=True)
            if not outcome.stored:
                failed_files += 1
                click.echo(
                    f"{path}: nothing imported ({len(outcome.problems)} bad row(s)); "
                    "fix them or use --skip-invalid to store the valid rows",
                    err=True,
                )
                continue
            for key in totals:
                totals[key] += getattr(outcome, key)
            for key in customers:
                customers[key] += outcome.customers.get(key, 0)
        bring_index_in_step(kb, totals["inserted"] + totals["updated"], last_file=outcome)
    seconds = time.perf_counter() - started
    moved = "".join(f", {totals[k]} {k} rows" for k in ("history", "feedback") if totals[k])
    if any(customers.values()):
        moved += ", customers: " + ", ".join(f"{key} {value}" for key, value in customers.items())
    click.echo(
        f"inserted {totals['inserted']}, updated {totals['updated']}, unchanged {totals['unchanged']}, "
        f"skipped {totals['skipped']}{moved} in {seconds:.1f} s"
    )
    if failed_files:
        sys.exit(1)


@cli.command("rebuild")
@click.option(
    "--procs",
    type=click.IntRange(1, 16),
    default=None,
    help=f"Indexing processes (default: 2 from {PARALLEL_THRESHOLD:,} calls on, else 1).",
)
def rebuild_command(procs):
    """Rebuild the index from the store into a new folder and swap it in whole."""
    with knowledge_base() as kb, progress_bar("rebuilding") as progress:
        procs = procs or indexing_processes(kb.store.count())
        result = rebuild(kb.store, kb.home, progress, procs=procs)
    click.echo(f"indexed {result.documents} calls (store sequence {result.applied_seq}) in {result.seconds:.1f} s")


@cli.command("check")
@click.option("--repair", "fix", is_flag=True, help="Reindex what differs.")
def check_command(fix):
    """Compare the store with the index; exit 1 when they differ."""
    with knowledge_base() as kb:
        report = check(kb.store, kb.home)
        click.echo(
            f"store: {report.store_count} calls (sequence {report.latest_seq}); "
            f"index: {report.index_count} calls (sequence {report.applied_seq})"
        )
        if report.index_error:
            click.echo(f"index: {report.index_error}")
        else:
            click.echo(backlog_line(kb))
        for label, ids in (
            ("missing from the index", report.missing),
            ("stale in the index", report.stale),
            ("in the index but not the store", report.extra),
        ):
            if ids:
                shown = ", ".join(ids[:10]) + (f" and {len(ids) - 10} more" if len(ids) > 10 else "")
                click.echo(f"{len(ids)} {label}: {shown}")
        if report.agrees:
            click.echo("store and index agree")
            return
        if not fix:
            click.echo("run 'python -m indexer check --repair' to fix the index")
            sys.exit(1)
        with progress_bar("repairing") as progress:
            fixed = repair(kb.store, kb.home, report, progress)
        after = check(kb.store, kb.home)
        click.echo(f"repaired: {fixed} calls reindexed; store and index {'agree' if after.agrees else 'still differ'}")
        if not after.agrees:
            sys.exit(1)


@cli.command("export")
@click.argument("path", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--with-history", is_flag=True, help="Also write edit history and feedback (to move between stores).")
def export_command(path, with_history):
    """Write every customer and call record as JSON Lines (a backup that 'import' reads back)."""
    written, extra = 0, []
    temporary = path.with_name(path.name + ".partial")
    with knowledge_base() as kb, open(temporary, "w", encoding="utf-8") as handle:
        for customer in kb.store.iter_customers():
            handle.write(json.dumps({"kind": "customer", **customer}, ensure_ascii=False) + "\n")
            extra.append(customer["id"])
        extra = [f"{len(extra)} customers"] if extra else []
        for record in kb.store.iter_records():
            handle.write(json.dumps(public_record(record), ensure_ascii=False) + "\n")
            written += 1
        if with_history:
            history, feedback = kb.store.all_history(), kb.store.all_feedback()
            for kind, rows in (("_history", history), ("_feedback", feedback)):
                for row in rows:
                    handle.write(json.dumps({kind: row}, ensure_ascii=False) + "\n")
            extra += [f"{len(history)} history rows", f"{len(feedback)} feedback rows"]
    temporary.replace(path)
    click.echo(f"exported {written} calls{''.join(', ' + item for item in extra)} to {path}")


@cli.command("migrate")
def migrate_command():
    """Create or upgrade the store's schema (also done on every start)."""
    with knowledge_base() as kb:
        kb.store.migrate()
        click.echo(f"store schema is up to date ({kb.store.count()} calls)")


@cli.command("backup")
@click.argument("path", type=click.Path(dir_okay=False, path_type=Path))
def backup_command(path):
    """Take a consistent copy of the store while the server runs (SQLite's online backup)."""
    with knowledge_base() as kb:
        if not hasattr(kb.store, "backup_to"):
            raise click.ClickException("backup works on the SQLite store; back up PostgreSQL with pg_dump")
        kb.store.backup_to(path)
        click.echo(f"backed up {kb.store.count()} calls to {path}")


@cli.command("restore")
@click.argument("path", type=click.Path(exists=True, dir_okay=False, path_type=Path))
def restore_command(path):
    """Replace the store with a backup and rebuild the index from it."""
    from indexer.restore import restore_backup

    with knowledge_base() as kb:
        try:
            count = restore_backup(kb, path)
        except ValueError as error:
            raise click.ClickException(str(error)) from error
        with progress_bar("rebuilding") as progress:
            result = rebuild(kb.store, kb.home, progress)
    click.echo(f"restored {count} calls from {path}; indexed {result.documents}")


@cli.group("keys")
def keys_group():
    """Create, list and revoke API keys (stored hashed)."""


@keys_group.command("create")
@click.option("--role", type=click.Choice(["search", "write"]), required=True, help="What the key may do.")
@click.option("--name", default="", help="Who or what uses the key.")
@click.option("--expires-days", type=click.IntRange(1, 3650), default=None, help="Stop working after N days.")
def keys_create(role, name, expires_days):
    """Make a key; it is shown once and only its hash is kept."""
    expires_at = ""
    if expires_days:
        moment = datetime.now(timezone.utc) + timedelta(days=expires_days)
        expires_at = moment.isoformat(timespec="seconds").replace("+00:00", "Z")
    with knowledge_base() as kb:
        key_id, secret = kb.store.create_key(role, name, expires_at)
    click.echo(f"{key_id} ({role}): {secret}")
    if expires_at:
        click.echo(f"it stops working at {expires_at}", err=True)
    click.echo("keep this key now: it cannot be shown again", err=True)


@keys_group.command("revoke")
@click.argument("key_id")
def keys_revoke(key_id):
    """Revoke a key by its id."""
    with knowledge_base() as kb:
        if not kb.store.revoke_key(key_id):
            raise click.ClickException(f"no live key with id {key_id}: see 'python -m indexer keys list'")
    click.echo(f"revoked {key_id}")


@keys_group.command("list")
def keys_list():
    """List keys (ids, roles, names, dates; never the keys)."""
    with knowledge_base() as kb:
        now = datetime.now(timezone.utc).isoformat(timespec="milliseconds").replace("+00:00", "Z")
        for key in kb.store.list_keys():
            state = f"revoked {key['revoked_at']}" if key["revoked_at"] else "live"
            if not key["revoked_at"] and key["expires_at"]:
                state = f"{'expired' if key['expires_at'] <= now else 'expires'} {key['expires_at']}"
            click.echo(f"{key['id']}  {key['role']:<6}  {state:<30}  {key['name']}")


@cli.command("apply-rules")
def apply_rules_command():
    """Apply the service rules (rules.toml): key-account priority, escalation by age, overdue follow-ups."""
    with knowledge_base() as kb:
        rules = rules_in_force(kb)
        outcome = apply_rules(kb.store, rules, messages=customer_messages_in_force(kb))
        bring_index_in_step(kb, len(outcome.reprioritized) + len(outcome.escalated))
        follow_ups = escalate_follow_ups(kb.store, rules)
        report = deliver_all_due(kb.store, DeliveryPolicy.from_settings(kb.settings))
    click.echo(
        f"reprioritized {len(outcome.reprioritized)}, escalated {len(outcome.escalated)}"
        + (": " + ", ".join(r["id"] for r in outcome.escalated) if outcome.escalated else "")
        + (f"; left for the next run (edited while the rules ran): {', '.join(outcome.left)}" if outcome.left else "")
    )
    click.echo(
        f"follow-ups escalated {len(follow_ups)}"
        + (": " + ", ".join(f["id"] for f in follow_ups) if follow_ups else "")
    )
    echo_deliveries(report)


def echo_deliveries(report):
    """Say what a delivery pass did, each failure with its reason (on stderr)."""
    if report.delivered or report.failed:
        click.echo(f"notifications: delivered {len(report.delivered)}, failed {len(report.failed)}")
    for message_id, reason in report.failed:
        click.echo(f"notification {message_id} not delivered: {reason}", err=True)


@cli.command("deliver")
def deliver_command():
    """Send the notifications due in the outbox now (the server does it too, every KB_OUTBOX_INTERVAL_S)."""
    with knowledge_base() as kb:
        report = deliver_all_due(kb.store, DeliveryPolicy.from_settings(kb.settings))
    echo_deliveries(report)
    if not report.delivered and not report.failed:
        click.echo("no notifications due")


cli.add_command(customer_group)
cli.add_command(embed_command)
