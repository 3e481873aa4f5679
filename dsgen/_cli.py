"""The Typer CLI: thin commands, each calling one library function."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from dsgen import __version__

app = typer.Typer(
    name="dsgen",
    help="Generate and grow FastAPI + Datastar + Tailwind apps from one YAML spec (dsgen.yaml).",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    rich_markup_mode="rich",
)
blueprints_app = typer.Typer(help="List and read the built-in UI pattern blueprints.",
                             no_args_is_help=True)
app.add_typer(blueprints_app, name="blueprints")

DryRun = Annotated[bool, typer.Option("--dry-run", help="Print the diff of every change; "
                                      "write nothing.")]
Yes = Annotated[bool, typer.Option("--yes", "-y", help="Do not ask: write merges that conflict "
                                   "with conflict markers for you to resolve.")]
Json = Annotated[bool, typer.Option("--json", help="Print a machine-readable summary on "
                                    "stdout.")]


def _complete_patterns(incomplete: str) -> list[str]:
    from dsgen._blueprints import builtin_registry

    return [b.id for b in builtin_registry().patterns if b.id.startswith(incomplete)]


def _version(value: bool) -> None:
    if value:
        typer.echo(f"dsgen {__version__}")
        raise typer.Exit()


@app.callback()
def _main(version: Annotated[bool, typer.Option("--version", callback=_version,
                                                is_eager=True, help="Show the version.")]
          = False) -> None:
    """dsgen: one spec in, a complete real-time web app out."""


def _run(action):
    """Run a library call; turn dsgen's errors into messages and exit codes."""
    from dsgen import _console
    from dsgen._errors import ConflictError, DsgenError, SpecError

    try:
        return action()
    except SpecError as exc:
        _console.diagnostics(exc.diagnostics, source=exc.source, note=exc.note)
        raise typer.Exit(exc.exit_code) from None
    except ConflictError as exc:
        _console.err.print(f"[bold red]conflict:[/] {exc}")
        for path in exc.paths:
            _console.err.print(f"  [red]{path}[/]")
        _console.err.print("[cyan]hint:[/] look with --dry-run; --yes writes the merge with "
                           "conflict markers for you to resolve (files dsgen did not write "
                           "are never touched)")
        raise typer.Exit(exc.exit_code) from None
    except DsgenError as exc:
        _console.err.print(f"[bold red]error:[/] {exc}")
        raise typer.Exit(exc.exit_code) from None


def _conflict_policy(yes: bool):
    from dsgen._write import Conflicts

    return Conflicts.MARKERS if yes else Conflicts.ABORT


def _report(outcome, *, dry_run: bool, as_json: bool, check: bool = False) -> None:
    from dsgen import _console

    if as_json:
        _console.results_json(outcome.results, project=str(outcome.project), dry_run=dry_run)
    elif dry_run:
        _console.show_diff(outcome.results)
    _console.summary(outcome.results, verb="would write" if dry_run else "result")
    if not outcome.changed and not dry_run:
        _console.err.print("[dim]up to date: nothing to write[/]")
    if check and outcome.changed:
        _console.err.print("[bold red]out of date:[/] the project differs from its spec; run "
                           "'dsgen update'")
        raise typer.Exit(1)
    if any(r.action.value == "conflict" for r in outcome.results) and not dry_run:
        _console.err.print("[bold yellow]resolve the conflict markers[/] (<<<<<<< yours … "
                           ">>>>>>> new dsgen render) in the files above")
        raise typer.Exit(1)


@app.command()
def new(
    name: Annotated[str, typer.Argument(help="Project folder (and default app name).")],
    spec: Annotated[Path | None, typer.Option("--spec", exists=False, dir_okay=False,
                                               help="Spec to start from (default: a "
                                                    "starter spec).")] = None,
    directory: Annotated[Path | None, typer.Option("--dir", file_okay=False,
                                                    help="Where to create the project "
                                                         "(default: ./NAME).")] = None,
    dry_run: DryRun = False,
    yes: Yes = False,
    as_json: Json = False,
) -> None:
    """Create a project from a spec (or a starter spec), ready for `make dev`."""
    from dsgen import _console
    from dsgen._project import new_project

    outcome = _run(lambda: new_project(name, dest=directory, spec_path=spec, dry_run=dry_run,
                                       conflicts=_conflict_policy(yes)))
    _report(outcome, dry_run=dry_run, as_json=as_json)
    if not dry_run and not as_json and outcome.written:
        _console.next_steps(outcome.project, Path.cwd())


@app.command()
def update(
    directory: Annotated[Path, typer.Option("--dir", file_okay=False,
                                            help="The project (default: here).")] = Path("."),
    dry_run: DryRun = False,
    check: Annotated[bool, typer.Option("--check", help="Exit 1 when the project is out of "
                                        "date with its spec; write nothing.")] = False,
    yes: Yes = False,
    as_json: Json = False,
) -> None:
    """Re-render the project from its dsgen.yaml, merging your edits."""
    from dsgen._project import update_project

    outcome = _run(lambda: update_project(directory, dry_run=dry_run or check,
                                          conflicts=_conflict_policy(yes)))
    _report(outcome, dry_run=dry_run or check, as_json=as_json, check=check)


add_app = typer.Typer(help="Add to the project's spec, then re-render it.",
                      no_args_is_help=True)
app.add_typer(add_app, name="add")


@add_app.command("pattern")
def add_pattern(
    pattern: Annotated[str, typer.Argument(help="The pattern id (see 'dsgen blueprints "
                                           "list').", autocompletion=_complete_patterns)],
    screen: Annotated[str | None, typer.Option("--screen", help="The new screen's name "
                                               "(default: from the store).")] = None,
    store: Annotated[str | None, typer.Option("--store", help="The store it shows; created "
                                              "with sensible fields if new.")] = None,
    settings: Annotated[list[str] | None, typer.Option("--set", help="A pattern option, "
                                                       "KEY=VALUE (YAML value).")] = None,
    directory: Annotated[Path, typer.Option("--dir", file_okay=False,
                                            help="The project (default: here).")] = Path("."),
    dry_run: DryRun = False,
    yes: Yes = False,
    as_json: Json = False,
) -> None:
    """Add a screen using PATTERN to dsgen.yaml (comments kept) and re-render."""
    from dsgen._project import add_pattern as add

    outcome = _run(lambda: add(directory, pattern, screen=screen, store=store,
                               settings=settings or [], dry_run=dry_run,
                               conflicts=_conflict_policy(yes)))
    _report(outcome, dry_run=dry_run, as_json=as_json)


@app.command()
def db(
    backend: Annotated[str | None, typer.Option("--backend", help="The database backend "
                                                "(default: the spec's app.backend): postgres "
                                                "(Alembic revisions); mongo is not supported "
                                                "yet.")] = None,
    message: Annotated[str | None, typer.Option("--message", "-m", help="The revision's "
                                                "message (default: from its changes).")] = None,
    allow_destructive: Annotated[bool, typer.Option("--allow-destructive", help="Emit steps "
                                                    "that drop or narrow data.")] = False,
    directory: Annotated[Path, typer.Option("--dir", file_okay=False,
                                            help="The project (default: here).")] = Path("."),
    dry_run: DryRun = False,
) -> None:
    """Emit the next migration: the spec's stores diffed against the last revision's state."""
    from dsgen import _console
    from dsgen._project import emit_migration

    def run():
        return emit_migration(directory, message=message, allow_destructive=allow_destructive,
                              dry_run=dry_run, backend=backend)

    migration = _run(run)
    if migration is None:
        _console.err.print("[dim]the database schema matches the spec: nothing to do[/]")
        return
    if dry_run:
        _console.out.print(migration.text, markup=False, highlight=False)
    verb = "would write" if dry_run else "wrote"
    _console.err.print(f"[green]{verb}[/] {migration.path}")
    for op in migration.ops:
        _console.err.print(f"  {op.summary()}", markup=False)
    if not dry_run:
        _console.err.print("apply it with [bold]make migrate[/] (make dev applies it too)")


@app.command()
def check(
    spec: Annotated[Path, typer.Argument(help="The spec to check.")] = Path("dsgen.yaml"),
) -> None:
    """Check a spec and report every error with file:line:col."""
    from dsgen import _console
    from dsgen._blueprints import builtin_registry
    from dsgen._project import prepare_spec

    result = _run(lambda: prepare_spec(spec, builtin_registry(), admin=False))
    _console.err.print(f"[green]ok[/] {spec}: {len(result.stores)} store(s), "
                       f"{len(result.screens)} screen(s)")


@app.command()
def schema() -> None:
    """Print the JSON Schema of dsgen.yaml (for editors and CI)."""
    import json

    from dsgen._blueprints import builtin_registry
    from dsgen._schema import json_schema

    typer.echo(json.dumps(json_schema(builtin_registry()), indent=2))


@blueprints_app.command("list")
def blueprints_list() -> None:
    """List the UI patterns a screen can use."""
    from dsgen import _console
    from dsgen._blueprints import builtin_registry

    _console.blueprint_table([(b.id, b.store, b.summary)
                              for b in builtin_registry().patterns])


@blueprints_app.command("show")
def blueprints_show(
    pattern: Annotated[str, typer.Argument(help="A pattern id.",
                                           autocompletion=_complete_patterns)],
) -> None:
    """Show a pattern's README: what it generates, its options, an example."""
    from rich.markdown import Markdown

    from dsgen import _console
    from dsgen._blueprints import builtin_registry

    def find():
        from dsgen._project import find_pattern

        return find_pattern(builtin_registry(), pattern)

    bp = _run(find)
    if bp.readme.is_file():
        _console.out.print(Markdown(bp.readme.read_text(encoding="utf-8")))
        return
    # No README: say what the manifest knows.
    lines = [f"# {bp.id}", "", bp.summary, "", "| option | type | default | meaning |",
             "|---|---|---|---|"]
    lines += [f"| `{o.name}`{' (required)' if o.required else ''} | {o.type} | "
              f"{o.default if o.default is not None else ''} | {o.doc} |" for o in bp.options]
    _console.out.print(Markdown("\n".join(lines)))


@blueprints_app.command("eject")
def blueprints_eject(
    pattern: Annotated[str, typer.Argument(help="A blueprint id ('app' for the project "
                                           "shell).", autocompletion=_complete_patterns)],
    directory: Annotated[Path, typer.Option("--dir", file_okay=False,
                                            help="The project (default: here).")] = Path("."),
) -> None:
    """Copy a blueprint's templates into .dsgen/blueprints/ to override them per file."""
    from dsgen import _console
    from dsgen._project import eject_blueprint

    copied = _run(lambda: eject_blueprint(directory, pattern))
    for path in copied:
        _console.err.print(f"  [green]copied[/] {path}")
    _console.err.print(f"{len(copied)} template(s) copied; edit them, then run 'dsgen update'. "
                       "Delete a file to go back to the built-in one.")


def main() -> None:
    app()
