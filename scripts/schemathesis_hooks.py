"""Schemathesis hooks for `scripts/schemathesis` (loaded through `hooks` in
schemathesis.toml). They work around defects of the pinned schemathesis version and do
nothing else; delete each one when the version that needs it is gone.
"""

import schemathesis
from schemathesis.generation import GenerationMode
from schemathesis.generation.meta import TestPhase


@schemathesis.hook
def filter_case(context, case):
    """Drops coverage-phase cases labelled positive that carry a negative component.

    schemathesis 4.32.5 builds header values in its coverage phase from letters and digits
    only, so it cannot produce a valid `If-Match: "3"` (the documented pattern needs the
    quotes). It then seeds the case template with a *negative* header (`If-Match: 0`,
    an incorrect-type probe) and still labels the body variations built on that template
    "positive" — so `positive_data_acceptance` reports the server's correct 400 as a
    rejected valid request. Such a case is neither a positive case nor a clean negative
    one. Real negatives (the case itself labelled negative) and every other phase are
    untouched; the fuzzing phase generates valid `If-Match` values and checks them.
    """
    meta = case.meta
    if meta is None or meta.phase.name != TestPhase.COVERAGE:
        return True
    if meta.generation.mode != GenerationMode.POSITIVE:
        return True
    return all(component.mode == GenerationMode.POSITIVE for component in meta.components.values())
