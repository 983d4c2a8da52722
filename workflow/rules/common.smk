# Everything that is not a rule: config and sheet validation, wildcard
# constraints and input functions.  Rules never parse config themselves.
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


def figures_of(recording):
    """Figure paths of one recording; simulated ones add truth vs estimate."""
    names = FIGURES + (["truth"] if "truth_file" in recording_row(recording) else [])
    fmt = config["figures"]["format"]
    return [f"results/{recording}/figures/{name}.{fmt}" for name in names]


def figure_output(name):
    """The report entry of one figure family of one recording."""
    return report(
        f"results/{{recording}}/figures/{name}.{config['figures']['format']}",
        caption=f"../report/{name}.rst",
        category="Receptive fields from spikes",
        subcategory="{recording}",
    )


def final_outputs():
    outputs = ["results/summary.tsv"]
    for recording in RECORDINGS.index:
        outputs += figures_of(recording)
    return outputs
