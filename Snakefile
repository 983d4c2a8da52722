# sparsefield: receptive fields from spikes and from sparse coding.
#
# A table of contents: configuration and checks live in workflow/rules/common.smk,
# one .smk per stage, and `rule all` asks for what common.smk says is final.
from snakemake.utils import min_version

min_version("9.0")

# Disk faults end in one message naming the folder (workflow/rules/disk.smk).
include: "workflow/rules/disk.smk"


configfile: "config/config.yaml"


report: "workflow/report/workflow.rst"


include: "workflow/rules/common.smk"
include: "workflow/rules/common_sparse.smk"
include: "workflow/rules/simulate.smk"
include: "workflow/rules/rf.smk"
include: "workflow/rules/lasso.smk"
include: "workflow/rules/models.smk"
include: "workflow/rules/stc.smk"
include: "workflow/rules/figures.smk"
include: "workflow/rules/sparse.smk"
include: "workflow/rules/gabor.smk"
include: "workflow/rules/provenance.smk"


rule all:
    input:
        final_outputs(),
        sparse_outputs(),
    default_target: True

