# Everything that is not a rule: config and sheet validation, wildcard
# constraints, input functions and the list of final outputs.  Rules never parse
# config themselves.
#
# Conventions every rule follows (the receptive-field rules and the sparse-coding
# rules alike; `snakemake --lint` checks log and conda, tests/test_workflow.py checks
# log, benchmark, threads and resources):
# - log:        "logs/<rule>/<wildcard values>.log"        (no wildcards: "logs/<rule>.log")
# - benchmark:  "benchmarks/<rule>/<wildcard values>.tsv"  (no wildcards: "benchmarks/<rule>.tsv");
#               `python tools/benchmark_table.py` sums them up per rule.
# - conda:      CONDA_ENV
# - threads:    what the script really uses (jobs export OMP/OPENBLAS/MKL/NUMBA_NUM_THREADS
#               from it; on SLURM it becomes --cpus-per-task).
# - resources:  mem_mb=<MB> (SLURM --mem) and runtime=<minutes> (SLURM --time), declared
#               in the rule with headroom for the default config; never left to the
#               executor to guess.
# - outputs:    arrays under results/<recording or run>/, written by the script with
#               sparsefield.io.save_npz (fixed zip dates); tables as TSV; figures under
#               results/figures/<branch>/<recording or run>/<name>.<format>, declared
#               with figure_output(...) below and saved with sparsefield.plots.save_figure;
#               every random draw is seeded from the config.  Same config and
#               packages, same bytes (tests/test_reproducible.py), except the wall-clock
#               `time` array that each sparse run's dictionary.npz keeps by design.
# - provenance: each results folder gets <folder>/provenance/ (config, sheet rows,
#               versions) from workflow/scripts/provenance.py (rules in provenance.smk).
import pandas as pd
from snakemake.exceptions import WorkflowError
from snakemake.utils import validate

validate(config, schema="../schemas/config.schema.yaml")
if not set(config["rf"]["lags"]) & set(config["lasso"]["lags"]):
    raise WorkflowError("config: rf.lags and lasso.lags share no lag to compare ML with lasso")

# The conda route (see README); --lint wants a software environment per rule.
CONDA_ENV = "../../environment.yml"


def _read_sheet(path):
    try:
        sheet = pd.read_csv(path, sep="\t", comment="#", dtype={"recording_id": str})
    except (OSError, pd.errors.ParserError) as error:
        raise WorkflowError(f"{path}: cannot read the recordings sheet ({error})")
    validate(sheet, schema="../schemas/recordings.schema.yaml")
    duplicated = sheet["recording_id"][sheet["recording_id"].duplicated()]
    if len(duplicated):
        raise WorkflowError(
            f"{path}: recording_id must be unique; repeated: {', '.join(duplicated)}"
        )
    return sheet.set_index("recording_id", drop=False)


RECORDINGS = _read_sheet(config["recordings"])
SIMULATED = list(config["simulation"]["neurons"])


wildcard_constraints:
    recording="|".join(map(re.escape, RECORDINGS.index)) or "(?!)",
    neuron="|".join(map(re.escape, SIMULATED)) or "(?!)",


def recording_row(recording):
    """The sheet row of one recording as a plain dict (empty cells dropped)."""
    row = RECORDINGS.loc[recording].to_dict()
    return {key: value for key, value in row.items() if not pd.isna(value)}


def raw_files(wildcards):
    """Input function: the distinct raw files of one recording."""
    row = recording_row(wildcards.recording)
    roles = ("spikes_file", "triggers_file", "stimulus_file")
    return sorted({row.get(role, row["spikes_file"]) for role in roles})


def truth_files(wildcards):
    """Input function: the ground truth of a simulated recording, or nothing."""
    row = recording_row(wildcards.recording)
    return {"truth": row["truth_file"]} if "truth_file" in row else {}


FIGURES = [
    "overview",
    "rf_lags",
    "ml_separation",
    "sta",
    "lasso_grid",
    "lasso_cv",
    "ml_vs_lasso",
    "lasso_separation",
]

# One folder tree for every figure: results/figures/<branch>/<recording or run>/.
# Deleting results/figures and running snakemake again redraws them without refitting.
RF_FIGURE = "results/figures/rf/{{recording}}/{name}.{format}"
RF_CATEGORY = "Receptive fields from spikes"


def figure_output(path, caption, category, subcategory, labels=None):
    """The output of a figure rule: ``path`` flagged for the Snakemake report.

    ``path`` is the output pattern (with wildcards); ``caption`` names a file in
    workflow/report/ (the rule's .smk file must sit in workflow/rules/);
    ``category`` is the branch ("Receptive fields from spikes", "Receptive
    fields from sparse coding") and ``subcategory`` the recording or run, usually a
    wildcard such as "{recording}".  ``labels`` (optional dict) become the columns
    of the report's table of this category.
    """
    return report(
        path,
        caption=f"../report/{caption}",
        category=category,
        subcategory=subcategory,
        labels=labels,
    )


def rf_figure(name):
    """The output of the receptive-field figure ``name`` of one recording."""
    return figure_output(
        RF_FIGURE.format(name=name, format=config["figures"]["format"]),
        caption=f"{name}.rst",
        category=RF_CATEGORY,
        subcategory="{recording}",
        labels={"recording": "{recording}", "figure": name},
    )


def figures_of(recording):
    """Figure paths of one recording; simulated ones add truth vs estimate."""
    names = FIGURES + (["truth"] if "truth_file" in recording_row(recording) else [])
    fmt = config["figures"]["format"]
    return [
        RF_FIGURE.format(name=name, format=fmt).format(recording=recording) for name in names
    ]


# What produced a results folder, written by workflow/rules/provenance.smk into
# <folder>/provenance/: the config, the sheet rows and the package versions.
PROVENANCE = ["config.yaml", "recordings.tsv", "versions.tsv"]


def sheet_rows(recordings):
    """Rows of the recordings sheet as plain dicts (empty cells dropped), for provenance."""
    return [
        {key: str(value) for key, value in recording_row(recording).items()}
        for recording in recordings
    ]


def final_outputs():
    outputs = ["results/summary.tsv"]
    outputs += [f"results/provenance/{name}" for name in PROVENANCE]
    for recording in RECORDINGS.index:
        outputs += [f"results/{recording}/provenance/{name}" for name in PROVENANCE]
        outputs += figures_of(recording)
    return outputs
