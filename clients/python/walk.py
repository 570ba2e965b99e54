"""Walks one request of an agency through the external flow, submit to completion, with a
client generated from the service's own OpenAPI document (scripts/clients, issue 14, item 6):
`openapi-python-client generate`, into target/clients/python/jembatan_client on each run,
never edited. The models parse every answer: a field or enum value of the flow that the
document no longer has fails the import or the parse.

    python walk.py BASE_URL GENERATED_DIR   (the demo's users and password, api/src/demo.rs)

Any status other than the expected one ends the walk with a message and exit code 1.
"""

import datetime
import io
import sys

base, generated = sys.argv[1], sys.argv[2]
sys.path.insert(0, generated)

from jembatan_client import AuthenticatedClient, Client
from jembatan_client.api.auth import auth_login
from jembatan_client.api.directory import users_list
from jembatan_client.api.documents import requests_documents_upload
from jembatan_client.api.requests import requests_create, requests_get_one
from jembatan_client.api.transitions import (
    requests_approval,
    requests_discussion,
    requests_disposition,
    requests_follow_up,
    requests_implementation,
    requests_integration,
    requests_report,
    requests_submit,
    requests_team,
    requests_testing,
)
from jembatan_client.models import (
    DispositionBody,
    DispositionInstruction,
    DocumentKind,
    IntegrationBody,
    LoginRequest,
    NewRequest,
    Problem,
    RequestView,
    Role,
    Status,
    StepBody,
    StepCode,
    TeamBody,
    TestingBody,
    TestOutcome,
    UploadForm,
)
from jembatan_client.types import File

PASSWORD = "jembatan-demo-2026"
# A minimal PDF: the service decides the type from the bytes.
PDF = b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


class Unexpected(Exception):
    pass


def expect(what, want, r):
    """The parsed body of an answer with the expected status; anything else raises."""
    if r.status_code != want:
        raise Unexpected(f"{what}: expected {want}, got {int(r.status_code)}: {r.content.decode(errors='replace')}")
    if r.parsed is None or isinstance(r.parsed, Problem):
        raise Unexpected(f"{what}: {want} but the client parsed {r.parsed!r}")
    return r.parsed


def refused(what, want, r):
    """Refused as expected: the status, and a problem document the client parsed."""
    if r.status_code != want or not isinstance(r.parsed, Problem) or r.parsed.status != want:
        raise Unexpected(f"{what}: expected a {want} problem, got {int(r.status_code)}: {r.content.decode(errors='replace')}")
    print(f"  {what}: {want} ({r.parsed.title}) as expected")


def sign_in(username):
    r = auth_login.sync_detailed(client=Client(base_url=base), body=LoginRequest(username=username, password=PASSWORD))
    token = expect(f"sign in as {username}", 200, r).access_token
    return AuthenticatedClient(base_url=base, token=token)


def user_id(c, role, username):
    page = expect(f"list {role}s", 200, users_list.sync_detailed(client=c, role=role, limit=100))
    for u in page.items:
        if u.username == username:
            return u.id
    raise Unexpected(f"no {role} named {username}")


def read(c, id):
    r = expect("read the request", 200, requests_get_one.sync_detailed(id, client=c))
    assert isinstance(r, RequestView)
    return r


def attach(c, id, kind):
    form = UploadForm(kind=kind, file=File(payload=io.BytesIO(PDF), file_name=f"{kind}.pdf", mime_type="application/pdf"))
    expect(f"upload {kind}", 201, requests_documents_upload.sync_detailed(id, client=c, body=form))


def at(c, id, code):
    """Checks that the request stands at `code`, then returns the version to send."""
    r = read(c, id)
    now = r.current_step.code if r.current_step else r.status
    if now != code:
        raise Unexpected(f"expected the request at {code}, it is at {now}")
    return r.version


def moved(what, before, r, nxt):
    """After a transition: one version further, at the next step (or completed)."""
    now = r.current_step.code if r.current_step else r.status
    status = Status.COMPLETED if nxt == Status.COMPLETED else Status.IN_PROGRESS
    if r.version != before + 1 or r.status != status or now != nxt:
        raise Unexpected(
            f"{what}: expected version {before + 1}, {status} at {nxt}; got version {r.version}, {r.status} at {now}"
        )
    print(f"  {what}: now {nxt} (version {r.version})")


def step(what, before, nxt, call, c, id, body):
    r = call.sync_detailed(id, client=c, body=body, if_match=f'"{before}"')
    moved(what, before, expect(what, 200, r), nxt)


def main():
    applicant = sign_in("pemohon.dinkes")
    head = sign_in("kabid.aptika")
    lead = sign_in("kasi.infra")
    head_of_agency = sign_in("kadis")
    team_lead = sign_in("teknisi.andi")
    member = sign_in("teknisi.sari")
    lead_id = user_id(head, Role.TECHNICAL_LEAD, "kasi.infra")
    andi_id = user_id(head, Role.TECHNICAL_STAFF, "teknisi.andi")
    sari_id = user_id(head, Role.TECHNICAL_STAFF, "teknisi.sari")

    new = NewRequest(
        title="Integrasi SIMPUS (generated Python client)",
        purpose="Data kunjungan harian",
        source_system="SIMPUS",
        target_system="Satu Data",
        data_exchanged="Kunjungan per puskesmas",
        letter_number="400.7/123/406.010/2026",
        letter_date=datetime.date(2026, 1, 5),
    )
    created = expect("create the request", 201, requests_create.sync_detailed(client=applicant, body=new))
    id = created.id
    if created.status != Status.DRAFT:
        raise Unexpected(f"a new request is {created.status}, not draft")
    print(f"  created {id} (draft)")

    # Step 1: submit; refused without the request letter, then with it.
    refused("submit without the request letter", 422,
            requests_submit.sync_detailed(id, client=applicant, body=StepBody(version=created.version)))
    attach(applicant, id, DocumentKind.REQUEST_LETTER)
    v = at(applicant, id, StepCode.SUBMIT)
    step("submit", v, StepCode.DISPOSITION, requests_submit, applicant, id, StepBody(version=v))

    # Step 2: the head of division disposes it to one technical lead; a stale ETag is 412.
    v = at(head, id, StepCode.DISPOSITION)
    disposition = DispositionBody(
        instructions=[DispositionInstruction.TINDAK_LANJUTI, DispositionInstruction.KOORDINASIKAN],
        to_user_ids=[lead_id], note="Segera", version=v,
    )
    refused("disposition with a stale If-Match", 412,
            requests_disposition.sync_detailed(id, client=head, body=disposition, if_match=f'"{v - 1}"'))
    step("disposition", v, StepCode.FOLLOW_UP, requests_disposition, head, id, disposition)

    # Steps 3 and 4: the addressed lead follows up and records the discussion.
    v = at(lead, id, StepCode.FOLLOW_UP)
    step("follow-up", v, StepCode.DISCUSSION, requests_follow_up, lead, id, StepBody(note="ok", version=v))
    attach(lead, id, DocumentKind.FORMULATION)
    v = at(lead, id, StepCode.DISCUSSION)
    step("discussion", v, StepCode.APPROVAL, requests_discussion, lead, id, StepBody(version=v))

    # Step 5: the head of agency approves.
    v = at(head_of_agency, id, StepCode.APPROVAL)
    step("approval", v, StepCode.TEAM, requests_approval, head_of_agency, id, StepBody(version=v))

    # Step 6: the head of division forms the integration team.
    attach(head, id, DocumentKind.API_DOCUMENT)
    v = at(head, id, StepCode.TEAM)
    step("team", v, StepCode.INTEGRATION, requests_team, head, id,
         TeamBody(lead_user_id=andi_id, member_user_ids=[sari_id], version=v))

    # Steps 7 to 9: the team builds, tests and implements.
    v = at(team_lead, id, StepCode.INTEGRATION)
    step("integration", v, StepCode.TESTING, requests_integration, team_lead, id,
         IntegrationBody(base_url="https://api.trenggalekkab.go.id/simpus/v1", version=v))
    attach(member, id, DocumentKind.TEST_REPORT)
    v = at(member, id, StepCode.TESTING)
    step("testing", v, StepCode.IMPLEMENTATION, requests_testing, member, id,
         TestingBody(result=TestOutcome.PASSED, version=v))
    attach(team_lead, id, DocumentKind.INTEGRATION_REPORT)
    v = at(team_lead, id, StepCode.IMPLEMENTATION)
    step("implementation", v, StepCode.REPORT, requests_implementation, team_lead, id, StepBody(version=v))

    # Step 10: the lead's final report completes it.
    attach(lead, id, DocumentKind.FINAL_REPORT)
    v = at(lead, id, StepCode.REPORT)
    step("report", v, Status.COMPLETED, requests_report, lead, id, StepBody(version=v))

    done = read(applicant, id)
    if done.status != Status.COMPLETED or done.current_step:
        raise Unexpected(f"the applicant reads {done.status} at {done.current_step}")
    print(f"python client: {id} walked from draft to completed")


if __name__ == "__main__":
    try:
        main()
    except Unexpected as e:
        sys.exit(f"python client: FAILED: {e}")
