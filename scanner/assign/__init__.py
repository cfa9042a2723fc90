"""Field and pathway assignment: every item scored against every field, multi-label.

Two kinds of evidence are combined:

- embedding similarity between the item and field prototypes written from the
  taxonomy in both languages (names, descriptions, keywords), and
- exact keyword evidence: English on word boundaries (acronyms case-sensitive),
  Chinese on jieba word segmentation with the taxonomy's words added, after the
  field's exclusion phrases are taken out ("feature fusion" is not fusion).

- features learned from the labelled items (`learned`): a ridge probe per field on the
  embedding, a "no field" probe, and each field's positive centroid as a prototype,
  cross-fitted so the calibrator is trained on scores of items the probes never saw.

A calibrator (one logistic regression shared by all fields, on field-normalised
features) turns them into probabilities, so one threshold means the same for every
field; it ships with its probes. An item below the minimum content (`content`) gets no
field. Expert verdicts also train per-field classifiers on the embeddings once a field
has enough of them (see `VerdictModels`), averaged with the calibrated probability.

Modules: `matcher` (keywords), `features` (prototypes, evidence, features), `learned`,
`calibrator`, `content`, `scorer` (pure), `service` (the store loop).
"""

from scanner.assign.calibrator import Calibrator, calibrator_path
from scanner.assign.features import FEATURES, Evidence
from scanner.assign.matcher import KeywordMatcher
from scanner.assign.scorer import Scorer, assign_fields
from scanner.assign.service import AssignResult, VerdictModels, assign_items

__all__ = ["FEATURES", "AssignResult", "Calibrator", "Evidence", "KeywordMatcher", "Scorer",
           "VerdictModels", "assign_fields", "assign_items", "calibrator_path"]
