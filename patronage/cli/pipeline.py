"""Commands that run flows: sample, run, demo, queues, serve, backtest."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape
from rich.table import Table

from patronage.cli.common import (
    _DATABASE_BLOCK,
    _PASSWORD_SECRET,
    DatabaseUrl,
    _checked_url,
    _database,
    _table,
    app,
    console,
)


@app.command()
def sample(
    out: Annotated[Path, typer.Option(help="Folder for the raw exports.")] = Path("sample-company"),
    customers: Annotated[int, typer.Option(min=10, help="Number of CRM customers.")] = 600,
    seed: Annotated[int, typer.Option(help="Random seed: same seed, same files.")] = 7,
    as_of: Annotated[
        str, typer.Option(help="Cut-off date of the exports (YYYY-MM-DD).")
    ] = "2026-10-31",
    truth_dir: Annotated[
        Path | None, typer.Option(help="Ground-truth folder (default: OUT-truth).")
    ] = None,
    no_truth: Annotated[
        bool, typer.Option("--no-truth", help="Do not write ground truth.")
    ] = False,
) -> None:
    """Simulate a company and write its raw exports (and, separately, ground truth)."""
    from patronage.simulator import SampleSpec, write_sample

    truth = None if no_truth else (truth_dir or out.with_name(out.name + "-truth"))
    counts = write_sample(
        SampleSpec(customers=customers, seed=seed, as_of=date.fromisoformat(as_of)), out, truth
    )
    for name, n in counts.items():
        console.print(f"{name:>22}: {n} rows")
    console.print(f"exports in {out}" + (f", ground truth in {truth}" if truth else ""))


def _run(
    data: str | None,
    database_url: str,
    as_of: str | None,
    dry_run: bool,
    sources_file: str | None = None,
    full_refresh: bool = False,
    policy_file: str | None = None,
) -> dict:
    from patronage.config import BUNDLED_SAMPLE, BUNDLED_SAMPLE_AS_OF, BUNDLED_SAMPLE_POLICY
    from patronage.flows.nightly import nightly
    from patronage.flows.parameters import NightlyParameters

    own_data = data or sources_file
    cutoff = date.fromisoformat(as_of) if as_of else (None if own_data else BUNDLED_SAMPLE_AS_OF)
    if _DATABASE_BLOCK["name"]:
        database = {"database_block": _DATABASE_BLOCK["name"]}
    else:
        database = {
            "database_url": _checked_url(database_url, must_exist=False),
            "database_password_secret": _PASSWORD_SECRET["name"],
        }
    params = NightlyParameters(
        data_location=data or str(BUNDLED_SAMPLE),
        as_of=cutoff,
        dry_run=dry_run,
        sources_file=sources_file,
        full_refresh=full_refresh,
        # The bundled sample company comes with its own policy (its brand account); a company's
        # own data gets only the policy it names.
        policy_file=policy_file or (None if own_data else str(BUNDLED_SAMPLE_POLICY)),
        **database,
    )
    state = nightly(params, return_state=True)
    if not state.is_completed():
        console.print(f"[red]run failed: {escape(state.message or state.name)}[/red]")
        raise typer.Exit(code=2)
    return state.result()


@app.command()
def run(
    database_url: DatabaseUrl = None,
    data: Annotated[
        str | None, typer.Option(help="Folder with raw exports (default: bundled sample).")
    ] = None,
    as_of: Annotated[
        str | None,
        typer.Option(
            help="Cut-off date YYYY-MM-DD (default: today, or the bundled sample's date)."
        ),
    ] = None,
    dry_run: Annotated[bool, typer.Option(help="Build the queues but do not publish.")] = False,
    sources_file: Annotated[
        str | None,
        typer.Option(help="YAML file of sources (see deployments/sources.example.yaml)."),
    ] = None,
    full_refresh: Annotated[
        bool, typer.Option(help="Ignore stored cursors and watermarks.")
    ] = False,
    policy_file: Annotated[
        str | None,
        typer.Option(
            help="The company's policy, YAML (see deployments/policy.example.yaml) [default: "
            "the bundled sample's own policy when running on it, else Patronage's defaults, "
            "with no brand handle]."
        ),
    ] = None,
) -> None:
    """Run the nightly flow once, in-process."""
    summary = _run(data, database_url, as_of, dry_run, sources_file, full_refresh, policy_file)
    console.print(f"run {summary['run_id']}: {summary['queues']}")


@app.command()
def demo(
    database_url: DatabaseUrl = None,
    top: Annotated[int, typer.Option(help="Items shown per queue.")] = 10,
) -> None:
    """Run the nightly flow on the bundled sample company and print both queues."""
    summary = _run(None, database_url, None, dry_run=False)
    queues(database_url=database_url, top=top)
    changed = summary["queues_changed"]
    console.print(
        f"\nrun {summary['run_id']} as of {summary['as_of']}: "
        f"published queues changed by this run: {'yes' if changed else 'no'}"
    )


@app.command()
def queues(
    database_url: DatabaseUrl = None,
    top: Annotated[int, typer.Option(help="Items shown per queue.")] = 10,
) -> None:
    """Print the top of each published queue."""
    from patronage.work import list_items

    with _database(database_url) as engine:
        cases = list_items(engine, "retention", limit=top)
        ideas = list_items(engine, "ideation", limit=top)
    cases["priority_score"] = cases["priority_score"].round(1)
    cases["value_at_risk"] = cases["value_at_risk"].round(0)
    console.print(
        _table(
            "Retention queue",
            cases,
            [
                "priority_rank",
                "priority_score",
                "reason_codes",
                "customer_id",
                "value_tier",
                "value_at_risk",
                "owner",
                "due_date",
            ],
        )
    )
    ideas["priority_score"] = ideas["priority_score"].round(1)
    ideas["title"] = ideas["title"].str.slice(0, 45)
    console.print(
        _table(
            "Ideation queue",
            ideas,
            [
                "priority_rank",
                "priority_score",
                "idea_key",
                "title",
                "n_supporters",
                "customer_supporters",
                "stakeholder_supporters",
                "votes",
                "status",
            ],
        )
    )


@app.command()
def serve(
    name: Annotated[
        str, typer.Option(help="Deployment name (the `prefect deploy` one is `nightly`).")
    ] = "nightly-served",
) -> None:
    """Serve the nightly flow at 02:00 Europe/Berlin from this process (no work pool needed)."""
    from patronage.cli.compat import known_bad_combinations
    from patronage.flows.serve import serve_nightly

    for problem in known_bad_combinations():
        console.print(f"[red]warning: {escape(problem)}[/red]")
    if name == "nightly":
        console.print(
            "[red]--name nightly is the `prefect deploy` deployment's name; serving under "
            "it would replace that deployment (work pool, pull steps) and pause it on exit[/red]"
        )
        raise typer.Exit(code=2)
    serve_nightly(name=name)


@app.command()
def backtest(
    as_of: Annotated[
        str | None,
        typer.Option(
            help="The (latest) past cut-off YYYY-MM-DD: the queue sees data up to it "
            "[default: the data's last day minus the horizon]."
        ),
    ] = None,
    data: Annotated[
        str | None, typer.Option(help="Folder with raw exports (default: bundled sample).")
    ] = None,
    sources_file: Annotated[
        str | None, typer.Option(help="YAML file of sources instead of --data.")
    ] = None,
    horizon_days: Annotated[
        int, typer.Option(min=7, max=730, help="Days after the cut-off judged.")
    ] = 90,
    rolling: Annotated[
        int, typer.Option(min=1, max=24, help="Number of cut-offs, --step-days apart.")
    ] = 1,
    step_days: Annotated[int, typer.Option(min=1, max=365, help="Days between cut-offs.")] = 30,
    out: Annotated[
        Path | None,
        typer.Option(
            help="Folder for backtest.json and the charts [default: $PATRONAGE_HOME/backtests/AS_OF]."
        ),
    ] = None,
    tune: Annotated[
        bool,
        typer.Option(
            help="Fit the policy on the earlier cut-offs, judge it on the latest, write it."
        ),
    ] = False,
    policy_out: Annotated[
        Path | None, typer.Option(help="Where --tune writes the policy [default: OUT/policy.json].")
    ] = None,
    policy_file: Annotated[
        Path | None, typer.Option(help="Judge this policy file instead of the default policy.")
    ] = None,
) -> None:
    """Rebuild the retention queue at a past cut-off and compare it with what customers did next."""
    from pydantic import ValidationError

    from patronage.config import BUNDLED_SAMPLE
    from patronage.flows.backtest import backtest as backtest_flow
    from patronage.flows.parameters import BacktestParameters

    try:
        cutoff = date.fromisoformat(as_of) if as_of else None
    except ValueError:
        console.print(f"[red]--as-of {escape(as_of)!s}: not a date (YYYY-MM-DD)[/red]")
        raise typer.Exit(code=2) from None
    try:
        params = BacktestParameters(
            data_location=data or str(BUNDLED_SAMPLE),
            sources_file=sources_file,
            as_of=cutoff,
            horizon_days=horizon_days,
            rolling=rolling,
            step_days=step_days,
            out_dir=str(out) if out else None,
            tune=tune,
            policy_out=str(policy_out) if policy_out else None,
            policy_file=str(policy_file) if policy_file else None,
        )
    except ValidationError as exc:
        console.print(f"[red]{escape(str(exc))}[/red]")
        raise typer.Exit(code=2) from None
    state = backtest_flow(params, return_state=True)
    if not state.is_completed():
        console.print(f"[red]backtest: {escape(state.message or state.name)}[/red]")
        raise typer.Exit(code=2)
    result = state.result()
    table = Table(
        title=f"Share of the value lost in the {result['horizon_days']} days after {result['as_of']} "
        f"held by the top k ({result['customers']} customers, {result['stopped']} stopped buying)",
        title_justify="left",
    )
    labels = list(next(iter(result["capture"].values())))
    for col in ["list", *labels, "AUC all", "AUC repeat"]:
        table.add_column(col, justify="left" if col == "list" else "right")
    for name, capture in result["capture"].items():
        auc = result["auc"][name]
        table.add_row(
            name,
            *(f"{capture[k]:.3f}" for k in labels),
            *("–" if auc[g] is None else f"{auc[g]:.3f}" for g in ("all", "repeat")),
        )
    console.print(table)
    if "tuning" in result:
        t = result["tuning"]
        console.print(
            f"tuned policy: in-sample capture {t['in_sample']:.3f}, out-of-sample "
            f"{t['out_of_sample']:.3f} (policy in use {t['out_of_sample_before']:.3f}) "
            f"on {t['out_of_sample_cutoff']}; written to {t['policy_file']}"
        )
    for note in result["notes"]:
        console.print(f"[yellow]note: {escape(note)}[/yellow]")
    console.print("files: " + ", ".join(result["files"]))
