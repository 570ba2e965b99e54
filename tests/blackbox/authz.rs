//! The authorization matrix: every operation of the generated OpenAPI document, called by
//! every kind of caller, checked against ONE policy table (`RULES`). An operation without a
//! row fails the test by name, so no endpoint ships without a decision about who may call it.
//!
//! Outcomes are classified for authorization only: 401 (no or invalid credentials), 403
//! (refused), 404 (invisible: another organization's request), or *passed* (2xx, 409, 412,
//! 422: the caller got past authorization and the answer is about the state or the body).
//! A 400, 5xx or anything else is never expected: it means the matrix sent a bad call (and
//! would hide the authorization answer) or the service broke.
//!
//! One app and one set of fixtures serve the whole matrix. Calls that would change the
//! fixture (deactivate, revoke, delete, the one transition the fixture request is ready
//! for) use a throwaway object (`Target`), and for each operation the callers expected to
//! be refused go first, so a refusal is always checked against an unchanged object.
//!
//! # The fixture request `R`
//! An external request of DINKES standing at `integration`, its team being `andi` (lead,
//! technical_staff) alone. Transitions are step-dependent: the right actor at the wrong
//! step gets 409 (passes authorization), anyone who is not that step's actor 403 — so at
//! `R` each step endpoint passes for its own actor only, and `return`/`reject` (the
//! *current* step's actor) pass for the team. `sari` (technical_staff, not on the team)
//! shows that the role alone does not make one the team.
//!
//! # Deactivated users: the decision
//! Every request checks the token's subject in the principal directory (issue 10), so a
//! deactivated user's *unexpired* token is refused at once, everywhere, like no token at
//! all: `Deactivated` is in no set below and expects 401 wherever `Anonymous` does. (Until
//! issue 10 such a token kept its role's rights for up to its 15-minute lifetime.)

use std::collections::{BTreeMap, BTreeSet};
use std::sync::atomic::{AtomicUsize, Ordering};

use jembatan_tests::{PASSWORD, Resp};
use reqwest::Method;
use serde_json::{Value, json};

use crate::flows::{Office, PDF};

/// Every kind of caller the matrix tries.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
enum Who {
    Anonymous,
    /// `budi`: applicant of DINKES, the organization of the fixture request.
    Applicant,
    HeadOfDivision,
    TechnicalLead,
    /// `andi`: technical_staff and the fixture request's team lead.
    TechnicalStaff,
    /// `sari`: technical_staff, not on the fixture request's team.
    StaffOffTeam,
    HeadOfAgency,
    Admin,
    Auditor,
    /// `rina`: applicant of DUKCAPIL, another agency.
    OtherApplicant,
    /// `ikp`: applicant of a Diskominfo division (internal flow) — also another organization.
    DivisionApplicant,
    /// DINKES's system: client-credentials token of the request's agency.
    Client,
    /// DUKCAPIL's system.
    OtherClient,
    /// A DINKES applicant deactivated after signing in (see the module docs).
    Deactivated,
}
use Who::*;

const CALLERS: &[Who] = &[
    Anonymous,
    Applicant,
    HeadOfDivision,
    TechnicalLead,
    TechnicalStaff,
    StaffOffTeam,
    HeadOfAgency,
    Admin,
    Auditor,
    OtherApplicant,
    DivisionApplicant,
    Client,
    OtherClient,
    Deactivated,
];

impl Who {
    fn short(self) -> &'static str {
        match self {
            Anonymous => "anon",
            Applicant => "appl",
            HeadOfDivision => "hod",
            TechnicalLead => "lead",
            TechnicalStaff => "team",
            StaffOffTeam => "staff",
            HeadOfAgency => "hoa",
            Admin => "admin",
            Auditor => "audit",
            OtherApplicant => "o.app",
            DivisionApplicant => "div",
            Client => "cli",
            OtherClient => "o.cli",
            Deactivated => "deact",
        }
    }

    /// Not of DINKES and not Diskominfo staff: DINKES's requests do not exist for them.
    fn outsider(self) -> bool {
        matches!(self, OtherApplicant | DivisionApplicant | OtherClient)
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Outcome {
    /// 401
    Unauthenticated,
    /// 403
    Forbidden,
    /// 404
    NotFound,
    /// Anything that shows authorization let the call through: 2xx, 409, 412, 422.
    Passed,
}
use Outcome::*;

impl Outcome {
    fn cell(self) -> &'static str {
        match self {
            Unauthenticated => "401",
            Forbidden => "403",
            NotFound => "404",
            Passed => "ok",
        }
    }
}

fn classify(status: u16) -> Result<Outcome, u16> {
    match status {
        401 => Ok(Unauthenticated),
        403 => Ok(Forbidden),
        404 => Ok(NotFound),
        200..=299 | 409 | 412 | 422 => Ok(Passed),
        s => Err(s),
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Scope {
    /// No per-object rule.
    Global,
    /// The path names DINKES's request (or its document): outsiders get 404, whatever
    /// their role, before any other check.
    DinkesRequest,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Target {
    /// The shared fixture object.
    Shared,
    /// A throwaway object for every call (destructive operations).
    FreshEach,
    /// A throwaway object for callers expected to pass (the call would change the fixture).
    FreshWhenPassing,
}

/// One row of the policy table.
struct Rule {
    /// `METHOD /path` exactly as in the OpenAPI document.
    op: &'static str,
    /// Callers that pass authorization.
    pass: &'static [Who],
    /// What a signed-in caller not in `pass` gets.
    others: Outcome,
    scope: Scope,
    /// Per-caller answers that override everything else.
    except: &'static [(Who, Outcome)],
    target: Target,
}

const fn rule(op: &'static str, pass: &'static [Who]) -> Rule {
    Rule { op, pass, others: Forbidden, scope: Scope::Global, except: &[], target: Target::Shared }
}

impl Rule {
    /// Another organization's callers get 404 (the request is invisible to them).
    const fn dinkes(self) -> Rule {
        Rule { scope: Scope::DinkesRequest, ..self }
    }
    const fn others(self, others: Outcome) -> Rule {
        Rule { others, ..self }
    }
    const fn except(self, except: &'static [(Who, Outcome)]) -> Rule {
        Rule { except, ..self }
    }
    const fn fresh(self) -> Rule {
        Rule { target: Target::FreshEach, ..self }
    }
    const fn fresh_when_passing(self) -> Rule {
        Rule { target: Target::FreshWhenPassing, ..self }
    }

    fn expected(&self, who: Who) -> Outcome {
        if let Some((_, o)) = self.except.iter().find(|(w, _)| *w == who) {
            return *o;
        }
        if self.scope == Scope::DinkesRequest && who.outsider() {
            return NotFound;
        }
        if self.pass.contains(&who) {
            return Passed;
        }
        // No token, or one whose user is deactivated: 401 wherever a caller is needed.
        if matches!(who, Anonymous | Deactivated) {
            return Unauthenticated;
        }
        self.others
    }
}

// ---- The caller sets the table is written in -------------------------------------------

/// Public: anyone, with or without a token.
const EVERYONE: &[Who] = CALLERS;
/// Any valid access token (users, API clients).
/// With `.dinkes()`, outsiders still get 404.
const SIGNED_IN: &[Who] = &[
    Applicant,
    HeadOfDivision,
    TechnicalLead,
    TechnicalStaff,
    StaffOffTeam,
    HeadOfAgency,
    Admin,
    Auditor,
    OtherApplicant,
    DivisionApplicant,
    Client,
    OtherClient,
];
/// People, not API clients.
const USERS: &[Who] = &[
    Applicant,
    HeadOfDivision,
    TechnicalLead,
    TechnicalStaff,
    StaffOffTeam,
    HeadOfAgency,
    Admin,
    Auditor,
    OtherApplicant,
    DivisionApplicant,
];
const ADMIN: &[Who] = &[Admin];
const ADMIN_AUDITOR: &[Who] = &[Admin, Auditor];
const OVERSIGHT: &[Who] = &[Admin, Auditor, HeadOfDivision, HeadOfAgency];
/// Whoever may file a request: an applicant of any organization, or an agency's system.
const ANY_APPLICANT: &[Who] = &[Applicant, Client, OtherApplicant, DivisionApplicant, OtherClient];
/// Webhook endpoints: admins, and every organization's applicant side.
const WEBHOOK_MANAGERS: &[Who] = &[Admin, Applicant, Client, OtherApplicant, DivisionApplicant, OtherClient];
/// The applicant side of DINKES (the fixture request's organization).
const DINKES_APPLICANT: &[Who] = &[Applicant, Client];
/// The actors of the steps: v1 of the external flow.
const HEAD_OF_DIVISION: &[Who] = &[HeadOfDivision];
const TECHNICAL_LEAD: &[Who] = &[TechnicalLead];
const HEAD_OF_AGENCY: &[Who] = &[HeadOfAgency];
/// The fixture request's integration team (its actor for the team steps and, standing at
/// `integration`, for return/reject and uploads).
const TEAM: &[Who] = &[TechnicalStaff];
/// The office's officials, who sign records electronically.
const OFFICIALS: &[Who] = &[HeadOfDivision, TechnicalLead, HeadOfAgency];
/// Whoever sees a request may comment on it, except the auditor (read-only).
const COMMENTERS: &[Who] = &[
    Applicant,
    HeadOfDivision,
    TechnicalLead,
    TechnicalStaff,
    StaffOffTeam,
    HeadOfAgency,
    Admin,
    OtherApplicant,
    DivisionApplicant,
    Client,
    OtherClient,
];

/// THE policy table. Every operation of the OpenAPI document must have exactly one row.
const RULES: &[Rule] = &[
    // Operations: public.
    rule("GET /health/live", EVERYONE),
    rule("GET /health/ready", EVERYONE),
    // Metrics: the scraper's own token (tests/blackbox/operations.rs) or an admin.
    rule("GET /metrics", ADMIN),
    // Sessions: the credential is in the body; the bearer token is irrelevant.
    rule("POST /api/v1/auth/login", EVERYONE),
    rule("POST /api/v1/auth/refresh", EVERYONE),
    rule("POST /api/v1/auth/logout", EVERYONE),
    rule("POST /api/v1/auth/token", EVERYONE),
    rule("GET /api/v1/auth/me", SIGNED_IN),
    rule("PATCH /api/v1/auth/me", USERS),
    rule("POST /api/v1/auth/password", USERS),
    // Directory: organization names are not secret (front-ends need them); changes are
    // the admin's; people are for admin and auditor (anyone else: 404, not 403), and the
    // heads list them to address dispositions and form teams.
    rule("GET /api/v1/organizations", SIGNED_IN),
    rule("POST /api/v1/organizations", ADMIN),
    rule("GET /api/v1/organizations/{id}", SIGNED_IN),
    rule("PATCH /api/v1/organizations/{id}", ADMIN),
    rule("POST /api/v1/organizations/{id}/deactivate", ADMIN).fresh(),
    rule("POST /api/v1/organizations/{id}/activate", ADMIN),
    rule("GET /api/v1/users", OVERSIGHT),
    rule("POST /api/v1/users", ADMIN),
    rule("GET /api/v1/users/{id}", ADMIN_AUDITOR).others(NotFound),
    rule("PATCH /api/v1/users/{id}", ADMIN),
    rule("POST /api/v1/users/{id}/deactivate", ADMIN).fresh(),
    rule("POST /api/v1/users/{id}/activate", ADMIN),
    rule("GET /api/v1/api-clients", ADMIN),
    rule("POST /api/v1/api-clients", ADMIN),
    rule("GET /api/v1/api-clients/{id}", ADMIN),
    rule("POST /api/v1/api-clients/{id}/rotate", ADMIN),
    rule("POST /api/v1/api-clients/{id}/revoke", ADMIN).fresh(),
    // Audit trail: oversight only (the auditor's API clients do not exist).
    rule("GET /api/v1/audit/events", ADMIN_AUDITOR),
    rule("GET /api/v1/audit/verify", ADMIN_AUDITOR),
    // The transparency log's public face: checkpoints, keys and consistency proofs are for
    // anyone (they reveal sizes and hashes only); an event's proof for whoever sees what
    // the event is about (R's events: R's viewers).
    rule("GET /api/v1/audit/checkpoint", EVERYONE),
    rule("GET /api/v1/audit/public-key", EVERYONE),
    rule("GET /.well-known/jembatan-audit-key", EVERYONE),
    rule("GET /api/v1/audit/consistency", EVERYONE),
    rule("GET /api/v1/audit/events/{id}/proof", SIGNED_IN).dinkes(),
    // Workflow definitions: readable by all; publishing is the admin's.
    rule("GET /api/v1/workflows", SIGNED_IN),
    rule("GET /api/v1/workflows/disposition-instructions", SIGNED_IN),
    rule("GET /api/v1/workflows/{key}", SIGNED_IN),
    rule("GET /api/v1/workflows/{key}/versions", SIGNED_IN),
    rule("POST /api/v1/workflows/{key}/versions", ADMIN),
    // Requests: lists are filtered (see the leak test), objects are 404 to outsiders.
    rule("GET /api/v1/requests", SIGNED_IN),
    rule("POST /api/v1/requests", ANY_APPLICANT),
    rule("GET /api/v1/requests/{id}", SIGNED_IN).dinkes(),
    rule("PATCH /api/v1/requests/{id}", DINKES_APPLICANT).dinkes(),
    rule("GET /api/v1/requests/{id}/timeline", SIGNED_IN).dinkes(),
    rule("GET /api/v1/requests/{id}/dossier", SIGNED_IN).dinkes(),
    rule("GET /api/v1/requests/{id}/records/{kind}.pdf", SIGNED_IN).dinkes(),
    rule("POST /api/v1/requests/{id}/records/{kind}/signature", OFFICIALS),
    rule("GET /api/v1/tasks", SIGNED_IN),
    rule("GET /api/v1/events", SIGNED_IN),
    // The catalogue is the regency's inventory: every signed-in caller reads all of it;
    // retiring an entry is an admin's or a head of division's.
    rule("GET /api/v1/integrations", SIGNED_IN),
    rule("POST /api/v1/integrations/{id}/retire", &[Admin, HeadOfDivision]),
    // Transitions at R (`integration`, team = andi). The auditor and the admin are nobody's
    // actor; an outsider never learns the request exists.
    rule("POST /api/v1/requests/{id}/submit", DINKES_APPLICANT).dinkes(),
    rule("POST /api/v1/requests/{id}/resubmit", DINKES_APPLICANT).dinkes(),
    rule("POST /api/v1/requests/{id}/withdraw", DINKES_APPLICANT).dinkes(),
    rule("POST /api/v1/requests/{id}/disposition", HEAD_OF_DIVISION).dinkes(),
    rule("POST /api/v1/requests/{id}/follow-up", TECHNICAL_LEAD).dinkes(),
    rule("POST /api/v1/requests/{id}/discussion", TECHNICAL_LEAD).dinkes(),
    rule("POST /api/v1/requests/{id}/approval", HEAD_OF_AGENCY).dinkes(),
    rule("POST /api/v1/requests/{id}/team", HEAD_OF_DIVISION).dinkes(),
    rule("POST /api/v1/requests/{id}/integration", TEAM).dinkes().fresh_when_passing(),
    rule("POST /api/v1/requests/{id}/testing", TEAM).dinkes(),
    rule("POST /api/v1/requests/{id}/implementation", TEAM).dinkes(),
    rule("POST /api/v1/requests/{id}/report", TECHNICAL_LEAD).dinkes(),
    rule("POST /api/v1/requests/{id}/return", TEAM).dinkes(),
    rule("POST /api/v1/requests/{id}/reject", TEAM).dinkes(),
    // Closing at any step: the definition's `may_cancel` (v1: the heads). Passing closes R,
    // so passers get a fresh request.
    rule("POST /api/v1/requests/{id}/cancel", &[HeadOfDivision, HeadOfAgency]).dinkes().fresh_when_passing(),
    // Sending back: the current step's actor (at R the team; integration has no
    // `send_back_to`, so it passes to 409).
    rule("POST /api/v1/requests/{id}/send-back", TEAM).dinkes(),
    // The team is changed by the actor of the step that formed it; the disposition's
    // addressees by the disposition's actor.
    rule("PUT /api/v1/requests/{id}/team", HEAD_OF_DIVISION).dinkes(),
    rule("POST /api/v1/requests/{id}/redispose", HEAD_OF_DIVISION).dinkes(),
    // Comments: whoever sees the request, except the read-only auditor.
    rule("GET /api/v1/requests/{id}/comments", SIGNED_IN).dinkes(),
    rule("POST /api/v1/requests/{id}/comments", COMMENTERS).dinkes(),
    // Documents: read by whoever sees the request; added by the current step's actor (or
    // the applicant while draft/returned — R is neither).
    rule("GET /api/v1/requests/{id}/documents", SIGNED_IN).dinkes(),
    rule("POST /api/v1/requests/{id}/documents", TEAM).dinkes(),
    rule("GET /api/v1/documents/{id}", SIGNED_IN).dinkes(),
    rule("GET /api/v1/documents/{id}/content", SIGNED_IN).dinkes(),
    // Office calendar: readable by all; changes are the admin's.
    rule("GET /api/v1/calendar", SIGNED_IN),
    rule("PUT /api/v1/calendar/weekly-schedule", ADMIN),
    rule("GET /api/v1/calendar/closed-dates", SIGNED_IN),
    rule("POST /api/v1/calendar/closed-dates", ADMIN),
    rule("GET /api/v1/calendar/closed-dates/{date}", SIGNED_IN),
    rule("PUT /api/v1/calendar/closed-dates/{date}", ADMIN),
    rule("DELETE /api/v1/calendar/closed-dates/{date}", ADMIN).fresh(),
    rule("GET /api/v1/calendar/special-schedules", SIGNED_IN),
    rule("POST /api/v1/calendar/special-schedules", ADMIN),
    rule("GET /api/v1/calendar/special-schedules/{id}", SIGNED_IN),
    rule("DELETE /api/v1/calendar/special-schedules/{id}", ADMIN).fresh(),
    rule("GET /api/v1/calendar/due", SIGNED_IN),
    rule("GET /api/v1/calendar/elapsed", SIGNED_IN),
    // Notifications: a person's own inbox. Somebody else's notification is 404 (the
    // fixture's belongs to the head of division); API clients have no inbox.
    rule("GET /api/v1/notifications", USERS),
    rule("POST /api/v1/notifications/read-all", USERS),
    rule("POST /api/v1/notifications/{id}/read", HEAD_OF_DIVISION)
        .others(NotFound)
        .except(&[(Client, Forbidden), (OtherClient, Forbidden)]),
    // Acting officials: people only. Anyone reads their own appointments (admin and
    // auditor all); only an admin appoints a Plt/Plh (the fixture body) or ends one. The
    // fixture's (sari Plh for kadis, from tomorrow) is 404 to people it does not concern.
    rule("GET /api/v1/acting-assignments", USERS),
    rule("POST /api/v1/acting-assignments", ADMIN),
    rule("POST /api/v1/acting-assignments/{id}/end", ADMIN).others(NotFound).except(&[
        (StaffOffTeam, Forbidden),
        (HeadOfAgency, Forbidden),
        (Auditor, Forbidden),
        (Client, Forbidden),
        (OtherClient, Forbidden),
    ]),
    // Webhooks: an admin, or an agency's applicant (person or system) for its own
    // organization. The fixture endpoint is DINKES's: other agencies get 404.
    rule("GET /api/v1/webhooks", WEBHOOK_MANAGERS),
    rule("POST /api/v1/webhooks", WEBHOOK_MANAGERS),
    rule("GET /api/v1/webhooks/{id}", WEBHOOK_MANAGERS).dinkes(),
    rule("PATCH /api/v1/webhooks/{id}", WEBHOOK_MANAGERS).dinkes(),
    rule("DELETE /api/v1/webhooks/{id}", WEBHOOK_MANAGERS).dinkes().fresh(),
    rule("POST /api/v1/webhooks/{id}/rotate-secret", WEBHOOK_MANAGERS).dinkes(),
    rule("GET /api/v1/webhooks/{id}/deliveries", WEBHOOK_MANAGERS).dinkes(),
    rule("POST /api/v1/webhooks/{id}/deliveries/{delivery_id}/redeliver", WEBHOOK_MANAGERS).dinkes(),
    rule("POST /api/v1/webhooks/{id}/ping", WEBHOOK_MANAGERS).dinkes(),
    // Oversight reports: the office's heads, admin and auditor (people only).
    rule("GET /api/v1/reports/sla", OVERSIGHT),
    rule("GET /api/v1/reports/summary", OVERSIGHT),
];

/// A public address (no network here: deliveries to it just fail and are retried).
const WEBHOOK_URL: &str = "https://8.8.8.8/hooks/matrix";

/// Lists where DINKES's data may appear to anyone: the directory itself, and the catalogue
/// of completed integrations (the regency's SPBE inventory, readable by every signed-in
/// caller by design: issue 12, item 9). Drafts and open requests never appear there.
const DIRECTORY_PATHS: &[&str] = &["/api/v1/organizations", CATALOGUE_PATH];
/// Where a completed request of DINKES's may appear to anyone (its id, number, agency).
const CATALOGUE_PATH: &str = "/api/v1/integrations";

// ---- The OpenAPI document ---------------------------------------------------------------

struct Operation {
    method: Method,
    path: String,
    /// `METHOD /path`, the table's key.
    key: String,
    spec: Value,
}

fn spec() -> Value {
    serde_json::to_value(jembatan::startup::openapi_document()).expect("the OpenAPI document serializes")
}

fn operations(spec: &Value) -> Vec<Operation> {
    let mut out = Vec::new();
    for (path, item) in spec["paths"].as_object().expect("paths") {
        for (m, op) in item.as_object().expect("path item") {
            let method = match m.as_str() {
                "get" => Method::GET,
                "post" => Method::POST,
                "put" => Method::PUT,
                "patch" => Method::PATCH,
                "delete" => Method::DELETE,
                "head" => Method::HEAD,
                "options" => Method::OPTIONS,
                "trace" => Method::TRACE,
                _ => continue,
            };
            out.push(Operation {
                key: format!("{} {path}", method.as_str()),
                method,
                path: path.clone(),
                spec: op.clone(),
            });
        }
    }
    out
}

fn resolve<'a>(spec: &'a Value, schema: &'a Value) -> &'a Value {
    match schema["$ref"].as_str().and_then(|r| r.strip_prefix("#/components/schemas/")) {
        Some(name) => &spec["components"]["schemas"][name],
        None => schema,
    }
}

/// A GET whose 200 answer is a list: an array, or an object with an `items` array.
fn returns_list(spec: &Value, op: &Operation) -> bool {
    if op.method != Method::GET {
        return false;
    }
    let schema = resolve(spec, &op.spec["responses"]["200"]["content"]["application/json"]["schema"]);
    schema["type"] == "array" || resolve(spec, &schema["properties"]["items"])["type"] == "array"
}

fn query_params(op: &Operation) -> Vec<Value> {
    op.spec["parameters"].as_array().into_iter().flatten().filter(|p| p["in"] == "query").cloned().collect()
}

/// Values for the required query parameters, from the document's examples.
fn required_query(op: &Operation) -> Vec<(String, String)> {
    query_params(op)
        .iter()
        .filter(|p| p["required"] == true)
        .map(|p| {
            let example = p.get("example").or_else(|| p["schema"].get("example")).cloned().unwrap_or(Value::Null);
            let value = match example {
                Value::String(s) => s,
                Value::Null => "1".into(),
                other => other.to_string(),
            };
            (p["name"].as_str().unwrap_or_default().to_owned(), value)
        })
        .collect()
}

// ---- The fixture ------------------------------------------------------------------------

enum Body {
    None,
    Json(Value),
    Multipart,
}

struct Fixture {
    o: Office,
    spec: Value,
    tokens: BTreeMap<Who, String>,
    dinkes: String,
    dukcapil: String,
    spare_org: String,
    andi_id: String,
    budi_id: String,
    /// DINKES, external, at `integration`, team = andi.
    r: String,
    r_number: String,
    /// A document of R.
    doc: String,
    /// A DUKCAPIL draft (rina's own: proves the leak scan is not vacuous).
    rina_request: String,
    spare_user: String,
    /// For rotate and get.
    spare_client: String,
    /// For `/auth/token`, never rotated.
    token_client: (String, String),
    login_user: String,
    workflow_body: Value,
    weekly_hours: Value,
    closed_date: Option<String>,
    special_schedule: Option<String>,
    /// The head of division's notification about R (and budi has one too).
    notification: Option<String>,
    /// A completed DINKES request (the catalogue's entry).
    done: String,
    /// sari, Plh for kadis from tomorrow (not in force during the matrix).
    acting: String,
    /// An audit event about R.
    r_event: String,
    /// DINKES's webhook endpoint (registered by budi), and a delivery of it (a ping).
    webhook: String,
    webhook_delivery: String,
    counter: AtomicUsize,
}

fn s(v: &Value) -> String {
    v.as_str().map(str::to_owned).unwrap_or_else(|| panic!("expected a string, got {v}"))
}

/// Brings a new DINKES request (by `applicant`) to `integration`, with andi as the team.
pub async fn to_integration(o: &Office, applicant: &str, andi_id: &str) -> String {
    let id = s(&o.create(applicant).await["id"]);
    o.attach(applicant, &id, "request_letter").await;
    o.act(applicant, &id, "submit", json!({})).await.assert_status(200);
    o.act(&o.kabid, &id, "disposition", json!({"instructions": ["tindak_lanjuti"]})).await.assert_status(200);
    o.act(&o.kasi, &id, "follow-up", json!({})).await.assert_status(200);
    o.attach(&o.kasi, &id, "formulation").await;
    o.act(&o.kasi, &id, "discussion", json!({})).await.assert_status(200);
    o.act(&o.kadis, &id, "approval", json!({})).await.assert_status(200);
    o.attach(&o.kabid, &id, "api_document").await;
    o.act(&o.kabid, &id, "team", json!({"lead_user_id": andi_id, "member_user_ids": []})).await.assert_status(200);
    id
}

pub async fn complete(o: &Office, id: &str) {
    o.act(&o.andi, id, "integration", json!({"base_url": "https://api.trenggalekkab.go.id/simpus/v1"}))
        .await
        .assert_status(200);
    o.attach(&o.andi, id, "test_report").await;
    o.act(&o.andi, id, "testing", json!({"result": "passed"})).await.assert_status(200);
    o.attach(&o.andi, id, "integration_report").await;
    o.act(&o.andi, id, "implementation", json!({})).await.assert_status(200);
    o.attach(&o.kasi, id, "final_report").await;
    o.act(&o.kasi, id, "report", json!({})).await.assert_status(200);
}

impl Fixture {
    async fn build(spec: Value) -> Fixture {
        let o = Office::new().await;
        let app = &o.app;
        let admin = o.admin.clone();
        let orgs = app.get("/organizations?limit=100", &admin).await;
        let org = |code: &str| {
            s(
                &orgs.body["items"].as_array().expect("organizations").iter().find(|x| x["code"] == code).expect(code)
                    ["id"],
            )
        };
        let dinkes = org("DINKES");
        let dukcapil = org("DUKCAPIL");
        let spare_org = s(&app.create_org(&admin, "SPARE", "agency").await["id"]);
        let users = app.get("/users?limit=100", &admin).await;
        let budi_id =
            s(&users.body["items"].as_array().expect("users").iter().find(|u| u["username"] == "budi").expect("budi")
                ["id"]);
        let andi_id = s(&o.andi_id);

        let new_user = |name: &str, org: &str, roles: &[&str]| json!({"username": name, "full_name": name, "password": PASSWORD, "organization_id": org, "roles": roles});
        let spare_user =
            s(&app.post("/users", &admin, new_user("spare.user", &spare_org, &["applicant"])).await.assert_status(201)
                ["id"]);
        let login_user = "matrix.login".to_owned();
        app.post("/users", &admin, new_user(&login_user, &spare_org, &["applicant"])).await.assert_status(201);

        // The deactivated user: signed in first, then deactivated. Refresh and login are
        // refused at once; the access token lives on until it expires (see module docs).
        let gone = s(&app
            .post("/users", &admin, new_user("budi.lama", &dinkes, &["applicant"]))
            .await
            .assert_status(201)["id"]);
        let session = app.login("budi.lama", PASSWORD).await;
        session.assert_status(200);
        let gone_token = s(&session.body["access_token"]);
        app.post(&format!("/users/{gone}/deactivate"), &admin, json!({})).await.assert_status(200);
        app.post("/auth/refresh", &admin, json!({"refresh_token": session.body["refresh_token"]}))
            .await
            .assert_problem(401);
        app.login("budi.lama", PASSWORD).await.assert_problem(401);

        let client = |org: &str, name: &str| {
            let body = json!({"name": name, "organization_id": org});
            let admin = admin.clone();
            async move { app.post("/api-clients", &admin, body).await.assert_status(201).clone() }
        };
        let machine_token = |c: Value| async move {
            let r = app
                .call(
                    Method::POST,
                    "/auth/token",
                    None,
                    Some(json!({"grant_type": "client_credentials", "client_id": c["client_id"], "client_secret": c["client_secret"]})),
                )
                .await;
            s(&r.assert_status(200)["access_token"])
        };
        let dinkes_client = machine_token(client(&dinkes, "SIMPUS").await).await;
        let dukcapil_client = machine_token(client(&dukcapil, "SIAK").await).await;
        let spare_client = s(&client(&spare_org, "Spare").await["id"]);
        let tc = client(&spare_org, "Token").await;
        let token_client = (s(&tc["client_id"]), s(&tc["client_secret"]));

        let r = to_integration(&o, &o.budi, &andi_id).await;
        let r_view = o.get(&admin, &r).await;
        let r_number = s(&r_view["number"]);
        let docs = app.get(&format!("/requests/{r}/documents"), &admin).await;
        let doc = s(&docs.assert_status(200)["items"][0]["id"]);
        // A completed one, so the catalogue has something of DINKES's to leak.
        let done = to_integration(&o, &dinkes_client, &andi_id).await;
        complete(&o, &done).await;
        let rina_request = s(&o.create(&o.rina).await["id"]);
        let timeline = app.get(&format!("/requests/{r}/timeline"), &admin).await;
        let r_event = s(&timeline.body["events"][0]["event_id"]);
        // The log's first checkpoint (the sequencer signs within a second).
        for _ in 0..100 {
            if app.call(Method::GET, "/audit/checkpoint", None, None).await.status == 200 {
                break;
            }
            tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        }
        // WIB is UTC+7 all year.
        let tomorrow =
            ((chrono::Utc::now() + chrono::Duration::hours(7)).date_naive() + chrono::Days::new(1)).to_string();
        let kadis_id = s(&app.get("/auth/me", &o.kadis).await.body["id"]);
        let acting = s(&app
            .post(
                "/acting-assignments",
                &admin,
                json!({"acting_user_id": o.sari_id, "for_user_id": kadis_id, "kind": "plh",
                       "letter_number": "800/1/2026", "starts_on": tomorrow, "ends_on": tomorrow}),
            )
            .await
            .assert_status(201)["id"]);

        let webhook = s(&app.post("/webhooks", &o.budi, json!({"url": WEBHOOK_URL})).await.assert_status(201)["id"]);
        let webhook_delivery =
            s(&app.post(&format!("/webhooks/{webhook}/ping"), &o.budi, json!({})).await.assert_status(202)["id"]);

        let mut workflow_body = app.get("/workflows/internal", &admin).await.assert_status(200).clone();
        for k in ["id", "published_at", "published_by_user_id"] {
            workflow_body.as_object_mut().expect("definition").remove(k);
        }

        let has = |p: &str| spec["paths"].get(p).is_some();
        let (has_closed_dates, has_special_schedules, has_notifications) = (
            has("/api/v1/calendar/closed-dates"),
            has("/api/v1/calendar/special-schedules"),
            has("/api/v1/notifications/{id}/read"),
        );
        let weekly_hours = if has("/api/v1/calendar") {
            app.get("/calendar", &admin).await.body["weekly_schedule"].clone()
        } else {
            Value::Null
        };

        let tokens = BTreeMap::from([
            (Applicant, o.budi.clone()),
            (HeadOfDivision, o.kabid.clone()),
            (TechnicalLead, o.kasi.clone()),
            (TechnicalStaff, o.andi.clone()),
            (StaffOffTeam, o.sari.clone()),
            (HeadOfAgency, o.kadis.clone()),
            (Admin, admin.clone()),
            (Auditor, o.auditor.clone()),
            (OtherApplicant, o.rina.clone()),
            (DivisionApplicant, o.ikp.clone()),
            (Client, dinkes_client),
            (OtherClient, dukcapil_client),
            (Deactivated, gone_token),
        ]);
        let mut fx = Fixture {
            o,
            tokens,
            dinkes,
            dukcapil,
            spare_org,
            andi_id,
            budi_id,
            r,
            r_number,
            doc,
            rina_request,
            spare_user,
            spare_client,
            token_client,
            login_user,
            workflow_body,
            weekly_hours,
            closed_date: None,
            special_schedule: None,
            notification: None,
            done,
            acting,
            r_event,
            webhook,
            webhook_delivery,
            counter: AtomicUsize::new(0),
            spec,
        };
        if has_closed_dates {
            fx.closed_date = Some(fx.fresh_closed_date().await);
        }
        if has_special_schedules {
            fx.special_schedule = Some(fx.fresh_special_schedule().await);
        }
        if has_notifications {
            let kabid = fx.user_id("kabid").await;
            fx.notification = Some(fx.notify(&kabid).await);
            fx.notify(&fx.budi_id).await;
        }
        fx
    }

    fn next(&self) -> usize {
        self.counter.fetch_add(1, Ordering::SeqCst)
    }

    fn admin(&self) -> &str {
        &self.o.admin
    }

    async fn fresh_org(&self) -> String {
        let code = format!("MX{}", self.next());
        s(&self.o.app.create_org(self.admin(), &code, "agency").await["id"])
    }

    fn new_user_body(&self) -> Value {
        let name = format!("matrix.{}", self.next());
        json!({"username": name, "full_name": name, "password": PASSWORD, "organization_id": self.spare_org, "roles": ["applicant"]})
    }

    async fn fresh_user(&self) -> String {
        s(&self.o.app.post("/users", self.admin(), self.new_user_body()).await.assert_status(201)["id"])
    }

    async fn fresh_client(&self) -> String {
        let body = json!({"name": format!("Matrix {}", self.next()), "organization_id": self.spare_org});
        s(&self.o.app.post("/api-clients", self.admin(), body).await.assert_status(201)["id"])
    }

    fn closed_date_body(&self) -> Value {
        let n = self.next() as u64;
        let date = chrono::NaiveDate::from_ymd_opt(2099, 1, 1).expect("date") + chrono::Days::new(n);
        json!({"date": date, "name": "Matrix closure", "kind": "regional_closure", "source": "authorization matrix"})
    }

    async fn fresh_closed_date(&self) -> String {
        let r = self.o.app.post("/calendar/closed-dates", self.admin(), self.closed_date_body()).await;
        s(&r.assert_status(201)["date"])
    }

    fn special_schedule_body(&self) -> Value {
        let n = self.next() as u64;
        let from = chrono::NaiveDate::from_ymd_opt(2098, 1, 1).expect("date") + chrono::Days::new(3 * n);
        json!({"from": from, "to": from + chrono::Days::new(1), "name": "Matrix schedule", "hours": self.weekly_hours,
               "source": "authorization matrix"})
    }

    async fn fresh_special_schedule(&self) -> String {
        let r = self.o.app.post("/calendar/special-schedules", self.admin(), self.special_schedule_body()).await;
        s(&r.assert_status(201)["id"])
    }

    async fn user_id(&self, username: &str) -> String {
        let users = self.o.app.get("/users?limit=100", self.admin()).await;
        s(
            &users.body["items"].as_array().expect("users").iter().find(|u| u["username"] == username).expect(username)
                ["id"],
        )
    }

    /// A notification about R for `user`, written the way the SLA sweeper writes them
    /// (nothing in the API creates one on demand).
    async fn notify(&self, user: &str) -> String {
        use jembatan::service::notifications::{NewNotification, NotificationKind, insert};
        let db = sea_orm::Database::connect(&self.o.app.database_url).await.expect("database");
        let parse = |s: &str| uuid::Uuid::parse_str(s).expect("uuid");
        let n = NewNotification {
            user_id: parse(user),
            request_id: parse(&self.r),
            step_instance_id: None,
            kind: NotificationKind::SlaWarning,
            title: "Matrix notification",
            body: "about the fixture request",
        };
        let id = insert(&db, chrono::Utc::now(), n).await.expect("notification");
        db.close().await.ok();
        id.to_string()
    }

    async fn fresh_refresh_token(&self) -> String {
        let r = self.o.app.login(&self.login_user, PASSWORD).await;
        s(&r.assert_status(200)["refresh_token"])
    }

    /// The value of path parameter `name` of `op`.
    async fn param(&self, op: &Operation, name: &str, fresh: bool) -> String {
        let p = op.path.as_str();
        let under = |prefix: &str| p.starts_with(prefix);
        match name {
            "id" if under("/api/v1/requests/") => {
                if fresh {
                    to_integration(&self.o, &self.o.budi, &self.andi_id).await
                } else {
                    self.r.clone()
                }
            }
            "id" if under("/api/v1/documents/") && !fresh => self.doc.clone(),
            "id" if under("/api/v1/integrations/") && !fresh => self.done.clone(),
            "id" if under("/api/v1/audit/events/") && !fresh => self.r_event.clone(),
            "id" if under("/api/v1/acting-assignments/") && !fresh => self.acting.clone(),
            "id" if under("/api/v1/organizations/") => {
                if fresh {
                    self.fresh_org().await
                } else {
                    self.spare_org.clone()
                }
            }
            "id" if under("/api/v1/users/") => {
                if fresh {
                    self.fresh_user().await
                } else {
                    self.spare_user.clone()
                }
            }
            "id" if under("/api/v1/api-clients/") => {
                if fresh {
                    self.fresh_client().await
                } else {
                    self.spare_client.clone()
                }
            }
            "id" if under("/api/v1/webhooks/") => {
                if fresh {
                    let r = self.o.app.post("/webhooks", &self.o.budi, json!({"url": WEBHOOK_URL})).await;
                    s(&r.assert_status(201)["id"])
                } else {
                    self.webhook.clone()
                }
            }
            "delivery_id" if !fresh => self.webhook_delivery.clone(),
            "key" if under("/api/v1/workflows/") && !fresh => "internal".into(),
            "kind" if under("/api/v1/requests/") => "dossier".into(),
            "date" if under("/api/v1/calendar/closed-dates/") => {
                if fresh {
                    self.fresh_closed_date().await
                } else {
                    self.closed_date.clone().expect("closed date fixture")
                }
            }
            "id" if under("/api/v1/notifications/") && !fresh => {
                self.notification.clone().expect("notification fixture")
            }
            "id" if under("/api/v1/calendar/special-schedules/") => {
                if fresh {
                    self.fresh_special_schedule().await
                } else {
                    self.special_schedule.clone().expect("special schedule fixture")
                }
            }
            _ => {
                assert!(!fresh, "{}: the matrix has no throwaway-object factory for `{{{name}}}`", op.key);
                // Unknown to the matrix: a callers that should pass will get 404 and the
                // failure names the operation; teach `param` about it.
                uuid::Uuid::new_v4().to_string()
            }
        }
    }

    /// A minimal valid body, so that "passed" is not confused with "400: empty body".
    async fn body(&self, op: &Operation) -> Body {
        let p = op.path.as_str();
        let j = |v: Value| Body::Json(v);
        match op.key.as_str() {
            "POST /api/v1/auth/login" => j(json!({"username": self.login_user, "password": PASSWORD})),
            // A NIK BSrE would never accept: past authorization, refused for the body (422),
            // whether or not the installation enables BSrE.
            "POST /api/v1/requests/{id}/records/{kind}/signature" => j(json!({"nik": "0", "passphrase": "x"})),
            "POST /api/v1/auth/refresh" | "POST /api/v1/auth/logout" => {
                j(json!({"refresh_token": self.fresh_refresh_token().await}))
            }
            "POST /api/v1/auth/token" => {
                j(json!({"grant_type": "client_credentials", "client_id": self.token_client.0,
                "client_secret": self.token_client.1}))
            }
            // A wrong current password: 422 once past authorization; nothing changes.
            "POST /api/v1/auth/password" => j(
                json!({"current_password": "not the current password", "new_password": "a brand new passphrase 2026"}),
            ),
            "POST /api/v1/organizations" => {
                j(json!({"code": format!("MO{}", self.next()), "name": "Matrix organization", "kind": "agency"}))
            }
            "PATCH /api/v1/organizations/{id}" => j(json!({"name": "Spare organization"})),
            "POST /api/v1/users" => j(self.new_user_body()),
            "PATCH /api/v1/users/{id}" => j(json!({"full_name": "Spare User"})),
            "POST /api/v1/api-clients" => {
                j(json!({"name": format!("Matrix client {}", self.next()), "organization_id": self.spare_org}))
            }
            "POST /api/v1/workflows/{key}/versions" => j(self.workflow_body.clone()),
            "POST /api/v1/requests" => j(json!({"title": "Integrasi matriks", "purpose": "Uji otorisasi",
                "source_system": "A", "target_system": "B", "data_exchanged": "C",
                "letter_number": "000/1/2026", "letter_date": "2026-01-05"})),
            "PATCH /api/v1/requests/{id}" => j(json!({"purpose": "Uji otorisasi"})),
            "PUT /api/v1/requests/{id}/team" => {
                j(json!({"lead_user_id": self.andi_id, "member_user_ids": [], "reason": "authorization matrix"}))
            }
            "PATCH /api/v1/auth/me" => j(json!({"email_opt_out": false})),
            "POST /api/v1/webhooks" => j(json!({"url": WEBHOOK_URL})),
            "PATCH /api/v1/webhooks/{id}" => j(json!({"description": "authorization matrix"})),
            "POST /api/v1/integrations/{id}/retire" => j(json!({"reason": "authorization matrix"})),
            "PUT /api/v1/calendar/weekly-schedule" => j(json!({"hours": self.weekly_hours})),
            "POST /api/v1/calendar/closed-dates" => j(self.closed_date_body()),
            "PUT /api/v1/calendar/closed-dates/{date}" => {
                j(json!({"name": "Matrix closure", "kind": "regional_closure", "source": "authorization matrix"}))
            }
            "POST /api/v1/calendar/special-schedules" => j(self.special_schedule_body()),
            _ if op.method == Method::POST && p.starts_with("/api/v1/requests/{id}/") => {
                match p.rsplit('/').next().unwrap_or_default() {
                    "documents" => Body::Multipart,
                    "disposition" => j(json!({"instructions": ["tindak_lanjuti"]})),
                    "team" => j(json!({"lead_user_id": self.andi_id, "member_user_ids": []})),
                    "integration" => j(json!({"base_url": "https://api.trenggalekkab.go.id/matrix/v1"})),
                    "testing" => j(json!({"result": "passed"})),
                    "return" | "reject" | "cancel" | "send-back" => j(json!({"reason": "authorization matrix"})),
                    "redispose" => j(json!({"instructions": ["tindak_lanjuti"], "to_user_ids": [self.andi_id]})),
                    "comments" => j(json!({"body": "authorization matrix"})),
                    _ => j(json!({})),
                }
            }
            _ => {
                let content = &op.spec["requestBody"]["content"];
                if content.is_null() {
                    Body::None
                } else if content.get("multipart/form-data").is_some() {
                    Body::Multipart
                } else {
                    // Unknown to the matrix: the document's example, if it has one.
                    let schema = resolve(&self.spec, &content["application/json"]["schema"]);
                    j(schema.get("example").cloned().unwrap_or_else(|| json!({})))
                }
            }
        }
    }

    async fn call(&self, op: &Operation, who: Who, fresh: bool, query: &[(String, String)]) -> Resp {
        let mut path = String::new();
        let mut rest = op.path.as_str();
        while let Some(open) = rest.find('{') {
            let close = rest[open..].find('}').expect("closing brace") + open;
            path.push_str(&rest[..open]);
            path.push_str(&self.param(op, &rest[open + 1..close], fresh).await);
            rest = &rest[close + 1..];
        }
        path.push_str(rest);
        let body = self.body(op).await;
        let app = &self.o.app;
        let mut req = app.http.request(op.method.clone(), format!("{}{path}", app.base));
        if !query.is_empty() {
            req = req.query(query);
        }
        if let Some(t) = self.tokens.get(&who) {
            req = req.bearer_auth(t);
        }
        req = match body {
            Body::None => req,
            Body::Json(v) => req.json(&v),
            Body::Multipart => req.multipart(
                reqwest::multipart::Form::new()
                    .text("kind", "other")
                    .part("file", reqwest::multipart::Part::bytes(PDF.to_vec()).file_name("matrix.pdf")),
            ),
        };
        app.send(req).await
    }
}

// ---- The matrix -------------------------------------------------------------------------

#[tokio::test]
async fn authz_every_operation_for_every_caller_matches_the_policy_table() {
    let started = std::time::Instant::now();
    let spec = spec();
    let ops = operations(&spec);
    let fx = Fixture::build(spec.clone()).await;
    let setup = started.elapsed();

    let mut problems = Vec::new();
    let mut keys = BTreeSet::new();
    for r in RULES {
        if !keys.insert(r.op) {
            problems.push(format!("the table has two rows for {}", r.op));
        }
    }
    let mut without_row = Vec::new();
    let mut unexpected_allows = 0;
    let mut calls = 0;
    let mut grid = vec![format!(
        "{:<55} {}",
        "operation",
        CALLERS.iter().map(|w| format!("{:>5}", w.short())).collect::<Vec<_>>().join(" ")
    )];
    for op in &ops {
        let Some(rule) = RULES.iter().find(|r| r.op == op.key) else {
            without_row.push(op.key.clone());
            continue;
        };
        let query = required_query(op);
        // Refusals first: they must be checked against the unchanged object.
        let mut order = CALLERS.to_vec();
        order.sort_by_key(|w| rule.expected(*w) == Passed);
        let mut cells = BTreeMap::new();
        for who in order {
            let expected = rule.expected(who);
            let fresh = match rule.target {
                Target::Shared => false,
                Target::FreshEach => true,
                Target::FreshWhenPassing => expected == Passed,
            };
            let resp = fx.call(op, who, fresh, &query).await;
            calls += 1;
            let actual = classify(resp.status.as_u16());
            let cell = match actual {
                // Which kind of "passed": a 2xx, or a refusal about state (409) or body (422).
                Ok(Passed) if expected == Passed && !resp.status.is_success() => resp.status.as_u16().to_string(),
                Ok(a) if a == expected => expected.cell().to_owned(),
                _ => {
                    if expected != Passed && actual == Ok(Passed) {
                        unexpected_allows += 1;
                    }
                    let got = match actual {
                        Ok(a) => format!("{} ({})", a.cell(), resp.status.as_u16()),
                        Err(s) => format!("unclassifiable {s}"),
                    };
                    problems.push(format!(
                        "{} as {:?}: expected {}, got {got}: {}",
                        op.key,
                        who,
                        expected.cell(),
                        resp.text.chars().take(300).collect::<String>()
                    ));
                    format!("!{}", actual.map(|a| a.cell().to_owned()).unwrap_or_else(|s| s.to_string()))
                }
            };
            cells.insert(who, cell);
        }
        grid.push(format!(
            "{:<55} {}",
            op.key,
            CALLERS.iter().map(|w| format!("{:>5}", cells[w])).collect::<Vec<_>>().join(" ")
        ));
    }
    let stale: Vec<&str> = RULES.iter().map(|r| r.op).filter(|k| !ops.iter().any(|o| o.key == *k)).collect();
    eprintln!("{}", grid.join("\n"));
    eprintln!("(ok: 2xx; 409/422: past authorization, refused for the state or the body; !: not as the table says)");
    eprintln!(
        "authorization matrix: {} operations × {} callers = {calls} calls in {:.1?} (fixture {:.1?}); \
         {unexpected_allows} unexpected allows, {} mismatches",
        ops.len(),
        CALLERS.len(),
        started.elapsed(),
        setup,
        problems.len()
    );
    if !stale.is_empty() {
        // Not a failure: a row may be written before its endpoint is registered.
        eprintln!("rows for operations not in the document (yet?): {}", stale.join(", "));
    }
    for op in &without_row {
        problems.insert(
            0,
            format!("{op} has no row in the policy table (tests/blackbox/authz.rs, RULES): decide who may call it"),
        );
    }
    assert!(
        problems.is_empty(),
        "{unexpected_allows} unexpected allows; {} problems:\n{}",
        problems.len(),
        problems.join("\n")
    );
}

// ---- No leaks ---------------------------------------------------------------------------

/// Everything that identifies DINKES's data, as (what, value), read as the admin.
async fn dinkes_secrets(fx: &Fixture) -> Vec<(String, String)> {
    let app = &fx.o.app;
    let admin = fx.admin();
    let mut out = vec![("DINKES organization".to_owned(), fx.dinkes.clone())];
    let pages = |first: String| async move {
        let mut items = Vec::new();
        let mut url = first.clone();
        loop {
            let r = app.get(&url, admin).await;
            items.extend(r.assert_status(200)["items"].as_array().expect("items").iter().cloned());
            match r.body["next_cursor"].as_str() {
                Some(c) => url = format!("{first}&cursor={c}"),
                None => break items,
            }
        }
    };
    for req in pages(format!("/requests?organization_id={}&limit=100", fx.dinkes)).await {
        let id = s(&req["id"]);
        if let Some(n) = req["number"].as_str() {
            out.push((format!("number of DINKES request {id}"), n.to_owned()));
        }
        let docs = app.get(&format!("/requests/{id}/documents?limit=100"), admin).await;
        for d in docs.body["items"].as_array().into_iter().flatten() {
            out.push((format!("document of DINKES request {id}"), s(&d["id"])));
        }
        out.push(("DINKES request".into(), id));
    }
    for u in pages(format!("/users?organization_id={}&limit=100", fx.dinkes)).await {
        out.push((format!("DINKES user {}", u["username"]), s(&u["id"])));
    }
    for c in pages(format!("/api-clients?organization_id={}&limit=100", fx.dinkes)).await {
        out.push((format!("DINKES API client {}", c["name"]), s(&c["id"])));
    }
    out
}

#[tokio::test]
async fn authz_no_list_leaks_another_agencys_data() {
    let spec = spec();
    let fx = Fixture::build(spec.clone()).await;
    let secrets = dinkes_secrets(&fx).await;
    assert!(secrets.len() > 10, "the fixture should give DINKES plenty to leak: {secrets:?}");
    assert!(secrets.iter().any(|(_, v)| *v == fx.r) && secrets.iter().any(|(_, v)| *v == fx.budi_id));

    let lists: Vec<Operation> = operations(&spec).into_iter().filter(|op| returns_list(&spec, op)).collect();
    assert!(lists.len() >= 5, "expected several list operations in the document");
    let mut leaks = Vec::new();
    let mut scanned = 0;
    for op in &lists {
        // Plain, and with every filter pointed at DINKES's objects.
        let sneaky: Vec<(String, String)> = query_params(op)
            .iter()
            .filter_map(|p| {
                let name = p["name"].as_str()?.to_owned();
                let value = if name == "q" {
                    fx.r_number.clone()
                } else if p["schema"]["format"] == "uuid" {
                    if name.contains("organization") {
                        fx.dinkes.clone()
                    } else if name.contains("user") {
                        fx.budi_id.clone()
                    } else {
                        fx.r.clone()
                    }
                } else {
                    return None;
                };
                Some((name, value))
            })
            .collect();
        let mut plain = required_query(op);
        if query_params(op).iter().any(|p| p["name"] == "limit") {
            plain.push(("limit".into(), "100".into()));
        }
        let mut pointed = plain.clone();
        pointed.extend(sneaky);
        for who in [OtherApplicant, OtherClient, DivisionApplicant] {
            for query in [&plain, &pointed] {
                let resp = fx.call(op, who, false, query).await;
                if !resp.status.is_success() {
                    continue;
                }
                scanned += 1;
                for (what, value) in &secrets {
                    let directory = DIRECTORY_PATHS.iter().any(|d| op.path.starts_with(d));
                    if directory && *value == fx.dinkes {
                        continue;
                    }
                    // The catalogue lists DINKES's completed integration (and nothing else).
                    let catalogue = op.path.starts_with(CATALOGUE_PATH);
                    if catalogue && (*value == fx.done || what.contains(fx.done.as_str())) {
                        continue;
                    }
                    if resp.text.contains(value.as_str()) {
                        leaks.push(format!("{} {:?} as {who:?}: shows {what} ({value})", op.key, query));
                    }
                }
            }
        }
    }
    // The scan sees the caller's own data, so an empty answer is not what passes it.
    let own = fx.o.app.get("/requests", &fx.o.rina).await;
    assert!(own.text.contains(&fx.rina_request), "rina should see her own request: {}", own.text);
    let orgs = fx.o.app.get("/organizations?limit=100", &fx.o.rina).await;
    assert!(orgs.text.contains(&fx.dukcapil));
    eprintln!("leak scan: {} list operations, {scanned} answers scanned for {} DINKES ids", lists.len(), secrets.len());
    assert!(leaks.is_empty(), "{} leaks of DINKES's data:\n{}", leaks.len(), leaks.join("\n"));
}
