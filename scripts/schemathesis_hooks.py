"""Schemathesis hooks for `scripts/schemathesis` (loaded through `hooks` in
schemathesis.toml). `filter_case` works around a defect of the pinned schemathesis
version (delete it when that version is gone); `before_call` makes the generated requests
follow a rule the spec states in words. They do nothing else.
"""

import re
import uuid

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

    The same template also leaks into cases whose header component is itself labelled
    positive, when the operation has a second header (`Idempotency-Key` on POSTs) and the
    variation was made on that one: `If-Match: 0` then rides along in an "all positive"
    case. So a positive coverage case is also dropped when one of its headers does not
    match that header's documented pattern.
    """
    meta = case.meta
    if meta is None or meta.phase.name != TestPhase.COVERAGE:
        return True
    if meta.generation.mode != GenerationMode.POSITIVE:
        return True
    if not all(component.mode == GenerationMode.POSITIVE for component in meta.components.values()):
        return False
    return _headers_match_their_patterns(case)


def _headers_match_their_patterns(case):
    sent = {str(name).lower(): value for name, value in (case.headers or {}).items()}
    for parameter in case.operation.headers:
        value = sent.get(parameter.name.lower())
        pattern = (parameter.definition.get("schema") or {}).get("pattern")
        if value is not None and pattern and re.search(pattern, str(value)) is None:
            return False
    return True


_IDEMPOTENCY_KEY = re.compile(r"^[!-~]{1,255}$")


@schemathesis.hook
def before_call(context, case, kwargs):
    """Sends every valid `Idempotency-Key` as a fresh one, as the spec asks clients to.

    The key's contract is "a unique key per request": the same key with another body is
    422 (`errors` names `Idempotency-Key`), which no schema can express. schemathesis draws
    keys from the pattern alone and reuses the few short ones it likes ("0", "A", …) across
    requests and operations, so `positive_data_acceptance` reported that 422 for valid
    bodies. A key that matches the documented pattern is replaced by a new UUID (also
    valid); malformed keys — the negative cases — are left as they are.
    """
    headers = case.headers or {}
    for name in list(headers):
        if str(name).lower() == "idempotency-key" and _IDEMPOTENCY_KEY.match(str(headers[name])):
            headers[name] = str(uuid.uuid4())
