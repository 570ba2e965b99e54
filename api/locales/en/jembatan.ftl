# English texts. Every message here is in ../id/jembatan.ftl too, with the same
# placeholders (a unit test checks it).

## Problem titles (RFC 9457 `title`), one per problem type.
problem-title-bad-request = The request could not be read
problem-title-unauthorized = Authentication required
problem-title-forbidden = Not allowed
problem-title-not-found = Not found
problem-title-method-not-allowed = Method not allowed
problem-title-conflict = Conflict with the current state
problem-title-precondition-failed = Precondition failed
problem-title-payload-too-large = Payload too large
problem-title-unsupported-media-type = Unsupported media type
problem-title-validation = Your request parameters didn't validate
problem-title-rate-limited = Too many requests
problem-title-unavailable = Service temporarily unavailable
problem-title-not-enabled = Not enabled on this installation
problem-title-upstream-unavailable = A service this depends on is unavailable
problem-title-internal = Internal server error

## Details every problem type may carry.
method-not-allowed = this resource does not support that method
upstream-unavailable = { $why }; retry shortly
unavailable = a dependency (the database) is not reachable; retry shortly
internal-error = an unexpected error occurred; it has been logged with this request's id
unique-violation = a record with the same unique value already exists
not-found = { $what } not found
no-such-resource = no such resource

## Text fields and bodies
text-control-characters = must not contain control characters
text-blank = must not be blank
text-at-most = must be at most { $max } characters
text-between = must be 1–{ $max } characters
text-passage-control-characters = must not contain control characters (line breaks and tabs are fine) or bidi overrides
send-json = send the body as application/json
json-too-large = JSON bodies are limited to { $limit } bytes
body-unreadable = the request body could not be read
json-required = a JSON body is required
json-malformed = malformed JSON: { $why }
limit-range = must be between 1 and { $max }
if-match-malformed = If-Match must be an ETag this API returned, like "3", or *
stale-version = the resource changed (it is at version { $current }, you sent { $sent }); reload and retry
if-match-failed = If-Match names version { $sent }, but the resource is at version { $current }; reload and retry
changed-meanwhile = the { $what } changed meanwhile; reload it and retry

## Things, as "… not found" and "… changed meanwhile" name them
thing-request = request
thing-closed-date = closed date
thing-special-schedule = special schedule
thing-notification = notification
thing-organization = organization
thing-user = user
thing-acting-assignment = acting assignment
thing-integration = integration
thing-workflow = workflow
thing-workflow-version = workflow version
thing-api-client = API client
thing-document = document
thing-checkpoint = checkpoint
thing-audit-event = audit event

## Who may call an operation (403)
policy-refused = this operation is for: { $who }
policy-signed-in = any signed-in user or API client
policy-signed-in-user = any signed-in user (not an API client)
policy-official = head_of_division, head_of_agency or technical_lead
policy-admin = admin
policy-admin-or-auditor = admin or auditor
policy-oversight = admin, auditor, head_of_division or head_of_agency

## Workflow refusals (the definition decides: workflow::decide)
wf-forbidden = not allowed at step `{ $step }`: { $reason }
wf-conflict = request is { $status } at step `{ $step }`: { $reason }
wf-missing = step `{ $step }` is missing { $what }
wf-missing-document = document `{ $kind }`
wf-document-required = a `{ $kind }` document must be uploaded for this step
wf-output-required = `{ $kind }` is required for this step
wf-reason-auditor = the auditor role is read-only
wf-reason-not-applicant = only the applicant of the requesting organization may do this
wf-reason-not-team = only the request's integration team acts on this step
wf-reason-not-actor = only `{ $actor }` acts on this step
wf-reason-not-addressee = the disposition addressed this step to other people
wf-reason-may-not-cancel = only the roles the workflow names may close a request
wf-reason-conflict-of-interest = you hold the applicant role in the organization that made this request; someone else in the office must act on it
wf-reason-closed = the request is closed
wf-reason-wrong-status = not possible in this status
wf-reason-not-current-step = step `{ $requested }` is not the current step
wf-reason-step-not-in-flow = this flow has no step `{ $requested }`
wf-reason-not-returnable = this step cannot return the request
wf-reason-not-rejectable = this step cannot reject the request
wf-reason-office-has-acted = the office has already acted on it
wf-reason-no-send-back = this step cannot send the request back to an earlier step
wf-reason-no-team-yet = no integration team has been formed yet
wf-reason-not-addressed = the current step is not acted on by the disposition's addressees
wf-reason-broken-state = the request's state does not fit its workflow

## Acting officials (Plt, Plh, delegation)
acting-not-for-clients = an API client cannot appoint officials
acting-admin-or-own-delegation = only an admin records a Plt or Plh; an official may only delegate their own tasks
acting-not-back-dated = must be today or later: an appointment is not back-dated
acting-ends-before-start = must not be before starts_on
acting-too-long = at most 366 days after starts_on; renew a longer appointment by a new letter
acting-for-themselves = nobody acts for themselves
acting-not-a-post = must be an office post: head_of_division, technical_lead, technical_staff or head_of_agency
acting-for-whom = give either for_user_id, or for_role with for_organization_id
acting-only-officials-delegate = only an official holding an office post may delegate
acting-user-not-official = must be an active user holding an office post
no-such-active-user = no such active user
no-such-organization = no such organization
acting-overlap = appointment { $id } ({ $from } to { $to }) already covers part of this range; end it first
acting-who-ends = only an admin ends a Plt or Plh; a delegation its two parties
acting-already-ended = this appointment has already ended

## Documents
bundle-not-logged-yet = { $waiting } event(s) of this record are not in the signed log yet; try again in a few seconds
documents-closed = the request is { $status }; its documents are closed
documents-not-your-turn = only the actor of the current step (`{ $actor }`) may add documents now
documents-kind-not-allowed = `{ $kind }` documents are not yours to add now; you may add: { $allowed }
documents-too-many = this request already holds { $held } documents, the most one request may hold
documents-request-bytes = this request's documents would come to { $bytes } bytes; one request may hold { $most }
documents-daily-allowance = your organization has uploaded { $today } bytes today; the daily allowance is { $most } bytes
documents-too-large = documents are limited to { $limit } bytes
storage-unavailable = the document store is not reachable

## Organizations
org-code-shape = must be 2–32 capital letters, digits, `-` or `_`
org-code-taken = an organization with code `{ $code }` already exists

## Users and passwords
password-too-short = must be at least { $min } characters
password-has-username = must not contain the username
password-repeated = must not be one repeated character
password-guessable = is too easy to guess{ $why }; choose a passphrase of several unrelated words
user-username-shape = must be 3–64 lowercase letters, digits, `.`, `_` or `-`
user-nip-shape = must be 18 digits
user-email-shape = must be an email address (local@domain.tld, at most 254 characters)
user-roles-empty = must name at least one role
user-roles-repeated = must not repeat a role
user-roles-agency = staff of an agency can only have the `applicant` role
active-organization-required = must be an existing, active organization
user-username-taken = the username `{ $username }` is taken
user-nip-taken = another user has this NIP
user-deactivate-self = you cannot deactivate your own account
user-change-own-standing = you cannot change your own roles or organization; another admin must

## The office calendar
calendar-years = must be in the years { $first }–{ $last }
calendar-already-closed = { $date } is already a closed date ({ $name }); correct it with PUT or delete it first

## Electronic signatures (BSrE)
bsre-nik-shape = a NIK is 16 digits
bsre-passphrase = give your BSrE passphrase (at most 256 bytes)
bsre-not-enabled = electronic signatures through BSrE are not enabled on this installation (JEMBATAN_BSRE_URL)

## Parameters
required = is required
report-bound = `{ $value }` is neither a date (YYYY-MM-DD) nor an RFC 3339 instant
to-after-from = must be after `from`
to-not-before-from = must not be before `from`

## Signing in and tokens
token-required = a bearer access token is required
token-invalid = the access token is invalid
token-invalid-or-expired = the access token is invalid or expired
token-revoked = the access token has been revoked; sign in again
account-deactivated = this account is deactivated
account-organization-deactivated = this account's organization is deactivated
login-invalid = invalid username or password
refresh-invalid = the refresh token is invalid, expired or already used
login-throttled = too many failed sign-in attempts; wait before trying again
password-change-throttled = too many wrong current passwords; wait before trying again
password-not-current = is not your current password
session-expired = the session has reached its maximum lifetime; sign in again
client-credentials-invalid = invalid client credentials
token-requests-throttled = too many token requests; wait a moment before trying again

## Requests, transitions, comments, the catalogue
consistency-from-shape = comma-separated checkpoint sizes
consistency-from-count = at most { $most } sizes
bundles-busy = other evidence bundles are being built; retry in a few seconds
notifications-not-for-clients = notifications are for people, not API clients
disposition-both-fields = give `to_user_ids` or `to_user_id`, not both
disposition-too-many = at most { $most } addressees
disposition-no-addressee = name at least one addressee
body-too-large = request body too large
form-malformed = malformed form body: { $why }
send-json-or-form = send JSON or a form
send-multipart = send the document as multipart/form-data
multipart-malformed = malformed multipart body: { $why }
document-kind-unknown = `{ $kind }` is not a document kind
document-one-file = send one file per upload
document-unknown-field = unknown form field; send `kind` and `file`
document-empty = is empty
comments-internal-office-only = internal comments are the office's; yours are public
integration-who-retires = only an admin or a head of division retires an integration
integration-other-division = only the division the flow is routed to retires its integrations
integration-already-retired = this integration is already retired
client-revoked = a revoked client cannot be rotated; create a new one
request-applicants-only = only an applicant (or an agency's system) can make a request
organization-deactivated = your organization is deactivated
letter-date-future = must not be in the future
named-user-not-holder = user { $id } is not an active { $roles }
named-user-other-division = user { $id } is not in the division this flow is routed to
reason-required = say why, for the applicant and the record

## Documents (upload form)
document-kind-not-one = is not a document kind

## Requests the service cannot take as sent
path-parameter-invalid = invalid path parameter: { $why }
query-parameter-invalid = invalid query parameter: { $why }
content-type-unsupported = unsupported content type
request-unprocessable = the request could not be processed
idempotency-key-shape = Idempotency-Key must be 1–255 visible ASCII characters
idempotency-key-running = the first request with this Idempotency-Key is still running

## Idempotency keys
idempotency-key-secret = cannot be used here: the response carries a secret that is never stored for replay; send the request without it (and list the resource to see whether a lost attempt went through)

## Request statuses (`status_label`)
status-draft = Draft
status-in_progress = In progress
status-returned = Returned
status-rejected = Rejected
status-withdrawn = Withdrawn
status-completed = Completed
status-cancelled = Cancelled

## Notifications and mail (written in Indonesian, the office's language; English kept for when people choose a language)
notice-unnumbered = (draft)
notice-step = step { $order }: { $label }
notice-reason = Reason: { $reason }
notice-due = Target time: { $due }.
notice-task-title = New task: { $number }
notice-task-body = Request { $number } "{ $title }" awaits your action at { $step }.
notice-team-added-title = Joined the Integration Team: { $number }
notice-team-added-body = You were added to the Integration Team of request { $number } "{ $title }".
notice-team-removed-title = Left the Integration Team: { $number }
notice-team-removed-body = You are no longer a member of the Integration Team of request { $number } "{ $title }".
notice-returned-title = Request returned: { $number }
notice-returned-body = Request { $number } "{ $title }" was returned for revision.
notice-rejected-title = Request rejected: { $number }
notice-rejected-body = Request { $number } "{ $title }" was rejected.
notice-cancelled-title = Request cancelled: { $number }
notice-cancelled-body = Request { $number } "{ $title }" was closed by Diskominfo.
notice-completed-title = Integration completed: { $number }
notice-completed-body = Request { $number } "{ $title }" is complete: the integration runs and has been reported.
notice-moved-title = Request moved on: { $number }
notice-moved-body = Request { $number } "{ $title }" is now at { $step }.
notice-comment-body = Comment on request { $number } "{ $title }": { $excerpt }
notice-mentioned-title = You were mentioned: { $number }
notice-comment-title = New comment: { $number }
notice-team = the Integration Team
sla-what = Request { $number } "{ $title }", step { $step } ({ $label })
sla-warning-title = Due soon: { $number } — { $label }
sla-warning-body = { $what } has been waiting on you since { $started }. Time standard { $standard }: target { $due }, limit { $limit }.
sla-overdue-title = Overdue: { $number } — { $label }
sla-overdue-body = { $what } passed its limit at { $limit } (time standard { $standard }, started { $started }).
sla-escalated-to = It has been escalated to { $role }.
sla-escalation-title = Escalated to you: { $number } — { $label } is overdue
sla-escalation-body = { $what }, acted on by { $actor }, passed its limit at { $limit } (time standard { $standard }). You are told as { $role }, the next level up.
mail-greeting = Dear { $name },
mail-open = Open the request: { $link }
mail-signature = Jembatan, Diskominfo of Trenggalek Regency.
mail-footer = This message was sent automatically; set your e-mail in your profile (PATCH /api/v1/auth/me).

## Cursors, calendar parameters, uploads, keys
cursor-unknown = is not a cursor this API returned
feed-cursor-unknown = is not a cursor this feed returned
feed-cursor-beyond = is beyond the end of the log (a cursor from another database?)
calendar-year-range = must be between 1 and 9999
calendar-due-beyond = the due time lies beyond the year 9999
documents-type-refused = allowed: PDF, PNG, JPEG, DOCX, XLSX, ODT, and JSON or YAML API specifications (checked from the content)
idempotency-key-reused = was already used for a different request; use a new key for a new request
user-demo-activation = a demo account (its password is published) cannot be activated; create a real account
workflow-flow-mismatch = must be `{ $flow }`, the flow in the path
workflow-no-division = no division has the code `{ $code }`
record-not-logged-yet = the record's event is not in the signed log yet; try again in a few seconds

## Who may call an operation (webhooks)
policy-webhook-manager = admin, or an applicant (user or API client) for their own organization

## Things (webhooks)
thing-webhook-endpoint = webhook endpoint
thing-delivery = delivery

## Webhooks
webhook-types-too-many = at most 20 types
webhook-ping-not-subscribable = webhook.ping is sent on request, not subscribed to
webhook-own-organization = you may register webhooks for your own organization only
webhook-rotation-overlap = the last rotation's old secret signs until { $until }; rotate again after that
webhook-disabled = the endpoint is disabled; enable it first
webhook-message-pending = this message is already waiting to be sent
webhook-ping-pending = a ping to this endpoint is already waiting to be sent
webhook-url-refused = the address is refused: { $why }
webhook-too-many = an organization may register at most { $most } webhook endpoints; remove one first
mail-webhook-disabled-subject = Webhook disabled
mail-webhook-disabled = Webhook { $id } ({ $url }) was disabled: { $reason }.

    Events while it is off are not sent; read them from GET /api/v1/events. Enable it again with PATCH /api/v1/webhooks/{ $id } and {"{"}"enabled": true{"}"}.
organization-deactivate-own = you cannot deactivate your own organization; another admin must
