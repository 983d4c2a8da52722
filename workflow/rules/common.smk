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

from sparsefield.config import check_workflow_inputs
from sparsefield.errors import InputError

# The config and the sheet, checked by sparsefield.config (unit-tested there): size
# limits, --config strings read as YAML scalars where the schema wants numbers or
# booleans, every schema error at once with its key path, the schema's defaults filled
# in, cross-key checks (rf.lags/lasso.lags, sta.tau_step/sta.tau_max, the sparse-coding
# branch's M, J and images, ...).  Any problem: one WorkflowError, no traceback.
# Then the recordings sheet (sparsefield.sheet), its files included.  `sparsefield
# check` runs the same function.
try:
    RECORDINGS = check_workflow_inputs(
        config, workflow.source_path("../schemas/config.schema.yaml"),
        workflow.source_path("../schemas/recordings.schema.yaml"),
        config_files=workflow.configfiles)
except InputError as error:
    raise WorkflowError(str(error))

# The conda route (see README); --lint wants a software environment per rule.
CONDA_ENV = "../../environment.yml"


SIMULATED = list(config["simulation"]["neurons"])
SIMULATED_SESSIONS = list(config["simulation"]["sessions"])


wildcard_constraints:
    recording="|".join(map(re.escape, RECORDINGS.index)) or "(?!)",
    unit=r"\d+",
    chunk=r"\d+",
    neuron="|".join(map(re.escape, SIMULATED)) or "(?!)",
    simulated_session="|".join(map(re.escape, SIMULATED_SESSIONS)) or "(?!)",


def recording_row(recording):
    """The sheet row of one recording as a plain dict (empty cells dropped)."""
    row = RECORDINGS.loc[recording].to_dict()
    return {key: value for key, value in row.items() if not pd.isna(value)}


def raw_files(wildcards):
    """Input function: the distinct raw files (or Kilosort folder) of one session."""
    row = recording_row(wildcards.recording)
    files = {row["spikes_file"], row.get("stimulus_file", row["spikes_file"])}
    if "frame_rate" not in row:
        files.add(row.get("triggers_file", row["spikes_file"]))
    return sorted(files)


def truth_files(wildcards):
    """Input function: the ground truth of a simulated session, or nothing."""
    row = recording_row(wildcards.recording)
    return {"truth": row["truth_file"]} if "truth_file" in row else {}


# Per-unit figures (results/figures/rf/<recording>/unit-<id>/) and session figures
# (results/figures/rf/<recording>/).  Which units get per-unit figures is decided
# after the fits (figures.per_unit), so the per-unit figures hang on the checkpoint
# summarise_recording.
UNIT_FIGURES = [
    "overview",
    "rf_lags",
    "ml_separation",
    "sta",
    "lasso_grid",
    "lasso_cv",
    "ml_vs_lasso",
    "lasso_separation",
]
SESSION_FIGURES = ["rf_atlas", "kernel_heatmap", "mosaic"]

# One folder tree for every figure: results/figures/<branch>/<recording or run>/.
# Deleting results/figures and running snakemake again redraws them without refitting.
RF_FIGURE = "results/figures/rf/{{recording}}/{name}.{format}"
UNIT_FIGURE = "results/figures/rf/{{recording}}/unit-{{unit}}/{name}.{format}"
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
    """The output of the session figure ``name`` of one recording (session)."""
    return figure_output(
        RF_FIGURE.format(name=name, format=config["figures"]["format"]),
        caption=f"{name}.rst",
        category=RF_CATEGORY,
        subcategory="{recording}",
        labels={"recording": "{recording}", "unit": "all", "figure": name},
    )


def unit_figure(name):
    """The output of the per-unit figure ``name`` of one unit of a recording."""
    return figure_output(
        UNIT_FIGURE.format(name=name, format=config["figures"]["format"]),
        caption=f"{name}.rst",
        category=RF_CATEGORY,
        subcategory="{recording}",
        labels={"recording": "{recording}", "unit": "{unit}", "figure": name},
    )


def frame_shape_of(recording):
    """(height, width) of a session's stimulus, read from its session.npz once it exists
    (only that member is read).  Asks the checkpoint load_recording for it: a session.npz
    deleted from a finished run is then made again, not a missing-file traceback."""
    import numpy as np

    checkpoints.load_recording.get(recording=recording)

    with np.load(f"results/{recording}/session.npz", allow_pickle=False) as arrays:
        return tuple(int(size) for size in arrays["frame_shape"])


def session_figures(recording):
    """Session figure paths of one recording; the mosaic of RF centres only for 2-D
    stimuli (bars and full field have no second dimension to tile); the held-out model
    comparison when models.enabled; and the comparison of Gabor fits with the learned
    atoms (workflow/rules/gabor.smk) only for 2-D stimuli with the sparse-coding branch
    enabled."""
    checkpoints.summarise_recording.get(recording=recording)
    grid = min(frame_shape_of(recording)) > 1
    fmt = config["figures"]["format"]
    names = [name for name in SESSION_FIGURES if name != "mosaic" or grid]
    if config["models"]["enabled"]:
        names.append("models")
    if grid and config["sparse"]["enabled"]:
        names.append("gabor_comparison")
    return [RF_FIGURE.format(name=name, format=fmt).format(recording=recording)
            for name in names]


def figure_units(table, per_unit):
    """Unit ids that get per-unit figures: all, none, or the N fitted units with the best
    cross-validated lasso gain (ties: lower id first).  ``table`` is a session's
    units.tsv as a DataFrame."""
    if per_unit == "none":
        return []
    fitted = table[table["fitted"].astype(bool)]
    if per_unit == "all":
        return sorted(int(unit) for unit in fitted["unit_id"])
    ranked = fitted.sort_values(["lasso_cv_gain", "unit_id"], ascending=[False, True],
                                na_position="last")
    return sorted(int(unit) for unit in ranked["unit_id"].head(int(per_unit)))


def unit_figures(recording):
    """Per-unit figure paths of one recording, once its units.tsv exists (checkpoint);
    the output nonlinearity when models.enabled, the spike-triggered covariance figure
    when stc.enabled."""
    table_path = checkpoints.summarise_recording.get(recording=recording).output[0]
    table = pd.read_csv(table_path, sep="\t")
    names = UNIT_FIGURES + (["truth"] if "truth_file" in recording_row(recording) else [])
    if config["models"]["enabled"]:
        names.append("nonlinearity")
    if config["stc"]["enabled"]:
        names.append("stc")
    fmt = config["figures"]["format"]
    return [
        UNIT_FIGURE.format(name=name, format=fmt).format(recording=recording, unit=unit)
        for unit in figure_units(table, config["figures"]["per_unit"])
        for name in names
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


def n_unit_chunks(recording):
    """How many chunks of sessions.units_per_job units a session has, once load_recording
    (a checkpoint) has read how many units there are."""
    import numpy as np

    session = checkpoints.load_recording.get(recording=recording).output[0]
    with np.load(session, allow_pickle=False) as arrays:
        n_units = int(arrays["unit_ids"].size)
    per_job = config["sessions"]["units_per_job"]
    return 1 if per_job == 0 else max(1, -(-n_units // per_job))


def unit_chunk_files(wildcards):
    """Input function (gather_units): the fits of every chunk of a session's units
    (sessions.units_per_job units per job)."""
    n_chunks = n_unit_chunks(wildcards.recording)
    folder = f"results/{wildcards.recording}/chunks"
    names = {"ml": "ml_fit", "ml_separation": "ml_separation", "lasso": "lasso_fit",
             "lasso_separation": "lasso_separation", "sta": "sta",
             "sta_separation": "sta_separation"}
    return {key: [f"{folder}/{chunk}/{name}.npz" for chunk in range(n_chunks)]
            for key, name in names.items()}


def model_chunk_files(wildcards):
    """Input function (gather_models): the held-out scores of every chunk of a session's
    units."""
    folder = f"results/{wildcards.recording}/chunks"
    return [f"{folder}/{chunk}/models.npz" for chunk in range(n_unit_chunks(wildcards.recording))]


def stc_chunk_files(wildcards):
    """Input function (gather_stc): the spike-triggered covariances of every chunk of a
    session's units."""
    folder = f"results/{wildcards.recording}/chunks"
    return [f"{folder}/{chunk}/stc.npz" for chunk in range(n_unit_chunks(wildcards.recording))]


def stc_file(wildcards):
    """Input function (summarise_recording): the session's spike-triggered covariances
    when stc.enabled, else nothing."""
    if not config["stc"]["enabled"]:
        return {}
    return {"stc": f"results/{wildcards.recording}/stc.npz"}


def models_file(wildcards):
    """Input function (summarise_recording): the session's held-out scores when
    models.enabled, else nothing."""
    if not config["models"]["enabled"]:
        return {}
    return {"models": f"results/{wildcards.recording}/models.npz"}


def figure_index(wildcards):
    """Input function (figure_index): one session's figures, once its units.tsv
    (the checkpoint) says which units get per-unit figures.  Each session waits on its
    own checkpoint, so sessions run side by side."""
    return session_figures(wildcards.recording) + unit_figures(wildcards.recording)


def final_outputs():
    """The targets of the workflow (all): summaries, provenance, and each session's figure index
    (which pulls in its figures)."""
    outputs = ["results/summary.tsv"]
    outputs += [f"results/provenance/{name}" for name in PROVENANCE]
    for recording in RECORDINGS.index:
        outputs += [f"results/{recording}/provenance/{name}" for name in PROVENANCE]
        outputs.append(f"results/{recording}/units.tsv")
        outputs.append(f"results/figures/rf/{recording}/index.tsv")
    return outputs


def remove_gathered_chunks(results="results"):
    """Remove chunk files (results/<id>/chunks/<chunk>/<name>.npz, temp outputs of the
    per-chunk fit jobs) that are older than results/<id>/<name>.npz, which they were
    gathered into.  Snakemake deletes temp files right after their last consumer ends,
    so a run killed in between leaves them for good, and the rerun (gather_units done)
    never touches them again; called when a run succeeds (rf.smk)."""
    import glob
    import os

    for path in sorted(glob.glob(os.path.join(results, "*", "chunks", "*", "*.npz"))):
        chunk_dir = os.path.dirname(path)
        gathered = os.path.join(os.path.dirname(os.path.dirname(chunk_dir)),
                                os.path.basename(path))
        if os.path.exists(gathered) and os.path.getmtime(gathered) >= os.path.getmtime(path):
            os.remove(path)
    for chunk_dir in sorted(glob.glob(os.path.join(results, "*", "chunks", "*")), reverse=True):
        if not os.listdir(chunk_dir):
            os.rmdir(chunk_dir)
    for chunks in glob.glob(os.path.join(results, "*", "chunks")):
        if not os.listdir(chunks):
            os.rmdir(chunks)
