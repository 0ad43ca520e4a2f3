"""Fitting and judging the matcher: ``ketnoi train`` and ``ketnoi evaluate``.

Registered on the top-level ``ketnoi`` application by :mod:`ketnoi.api.cli`.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from ketnoi.api._cli_common import (
    DatasetArg,
    JsonOpt,
    console,
    err,
    fail,
    load_or_exit,
    matcher_for,
    print_json,
)

app = typer.Typer()


@app.command()
def train(
    source: DatasetArg,
    out: Annotated[Path, typer.Option("--out", help="Model file to write (.joblib).")],
) -> None:
    """Fit the matcher on a dataset and write the model file."""
    fitted = matcher_for(source, None)
    fitted.save(out)
    console.print(
        f"wrote {out}: {fitted.mode_} scorer ({fitted.ranker_}), {fitted.n_positives_} links and "
        f"{fitted.n_training_pairs_} training pairs; model files are code: load only your own",
        highlight=False,
    )
    if fitted.selection_:
        table = Table(title="rankers compared by inner validation (training data only)")
        table.add_column("ranker")
        table.add_column("inner NDCG@10", justify="right")
        for row in fitted.selection_:
            chosen = " (chosen)" if row["ranker"] == fitted.ranker_ else ""
            # A learned blend ("logistic+ease") shows the first ranker's weight.
            weight = f" w={row['weight']:.2f}" if "weight" in row else ""
            table.add_row(f"{row['ranker']}{weight}{chosen}", f"{row['inner_ndcg@10']:.3f}")
        console.print(table)
    if fitted.ease_l2_ is not None:
        console.print(f"EASE ridge penalty {fitted.ease_l2_:g}", highlight=False)


@app.command()
def evaluate(
    source: DatasetArg,
    holdout: Annotated[
        str,
        typer.Option(
            "--holdout",
            help="temporal (last two years), random (a tenth of each buyer's suppliers) or "
            "cold (every link of a tenth of the buyers: new firms).",
        ),
    ] = "temporal",
    k: Annotated[int, typer.Option("--k", min=1, max=1000, help="Cut-off for recall/NDCG.")] = 10,
    seeds: Annotated[int, typer.Option("--seeds", min=1, max=20, help="Seeds to average.")] = 3,
    methods: Annotated[
        str | None,
        typer.Option(
            help="Comma-separated subset of: model, model_without_outcomes (with --outcomes), "
            "logistic, random, popular, l3, itemknn, als, ease, rp3beta."
        ),
    ] = None,
    outcomes: Annotated[
        bool,
        typer.Option(
            "--outcomes",
            help="Also fit the matcher as if no outcome had been recorded "
            "(model_without_outcomes), to show what the feedback loop adds.",
        ),
    ] = False,
    as_json: JsonOpt = False,
) -> None:
    """Hide links, refit the matcher, every baseline and peer, and measure who finds them again.

    Peers (als, ease, rp3beta) choose their settings by inner validation on the training links.
    """
    from ketnoi.matcher import evaluate as run_evaluation
    from ketnoi.matcher import evaluation_methods

    if holdout not in {"temporal", "random", "cold"}:
        raise fail(f"--holdout must be temporal, random or cold, not '{holdout}'", 2)
    import warnings

    with warnings.catch_warnings(record=True) as notes:
        # A peer whose optional package is missing is left out with a warning: said as a note.
        warnings.simplefilter("always", UserWarning)
        available = evaluation_methods(holdout=holdout, outcomes=outcomes)
    for note in notes:
        # markup=False: the note's `pip install -e ".[ml]"` is no rich style tag.
        err.print(f"note: {note.message}", highlight=False, soft_wrap=True, markup=False)
    chosen = available
    if methods:
        names = [m.strip() for m in methods.split(",") if m.strip()]
        unknown = sorted(set(names) - set(available))
        if unknown:
            raise fail(f"unknown method(s): {', '.join(unknown)}", 2)
        chosen = {name: available[name] for name in names}
    dataset = load_or_exit(source)
    with console.status(f"evaluating {len(chosen)} method(s) over {seeds} seed(s)..."):
        try:
            result = run_evaluation(dataset, holdout=holdout, k=k, seeds=seeds, methods=chosen)
        except ValueError as exc:
            raise fail(str(exc)) from None
    if as_json:
        print_json(result.to_dict())
    else:
        console.print(result.to_markdown(), highlight=False, markup=False)
