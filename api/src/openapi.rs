//! The OpenAPI document: paths are collected from the handlers by utoipa-actix-web; this
//! module adds the document's header, the bearer scheme, and the error responses every
//! operation can give, so each handler only lists what is particular to it.

use utoipa::openapi::path::Operation;
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::openapi::{ContentBuilder, OpenApi as Doc, RefOr, ResponseBuilder};
use utoipa::{Modify, OpenApi};

use crate::error::Problem;

#[derive(OpenApi)]
#[openapi(
    info(
        title = "Jembatan",
        description = "Runs the Trenggalek Diskominfo SOP for integrating information systems \
(SOP Integrasi Sistem Informasi, No. 000.8.3.3/027/SOP/406.020/2025). Errors are RFC 9457 \
`application/problem+json`. Texts (problem titles and details, labels) are Indonesian, or \
English with `Accept-Language: en`; `Content-Language` says which. Sign in at \
`/api/v1/auth/login`, then press *Authorize* and paste the `access_token`.",
        license(name = "Apache-2.0", url = "https://www.apache.org/licenses/LICENSE-2.0")
    ),
    servers((url = "/", description = "This service (paths start with /api/v1)")),
    components(schemas(Problem, crate::service::records::RecordKind)),
    modifiers(&Security),
    tags(
        (name = "auth", description = "Signing in: people (password) and agency systems (client credentials)"),
        (name = "directory", description = "Organizations and users (admin)"),
        (name = "api-clients", description = "Machine clients of agencies (admin)"),
        (name = "workflows", description = "The SOP's flows as versioned definitions"),
        (name = "requests", description = "Integration requests (permohonan): create, read, worklist, catalogue"),
        (name = "transitions", description = "One endpoint per SOP step; who may act is the definition's business"),
        (name = "documents", description = "Documents a step requires: uploaded, checked by content, immutable"),
        (name = "calendar", description = "The office calendar: working hours, closed dates, special schedules; due times and working time"),
        (name = "notifications", description = "My notifications: tasks, my requests' progress, team changes, mentions, SLA warnings, escalations (also by e-mail when configured)"),
        (name = "comments", description = "A comment thread per request: public (the applicant reads it) or internal (the office only)"),
        (name = "acting", description = "Acting officials (Plt, Plh) and delegations: who acts for whom, when, under which letter"),
        (name = "reports", description = "Oversight reports: SLA compliance and the register's summary (admin, auditor, heads)"),
        (name = "audit", description = "The audit trail as a signed transparency log: checkpoints, proofs, verification"),
        (name = "events", description = "The event feed for agency systems that poll"),
        (name = "webhooks", description = "Signed calls to agency systems when something happens (Standard Webhooks 1.0)"),
        (name = "operations", description = "Health checks")
    )
)]
pub struct ApiDoc;

struct Security;

impl Modify for Security {
    fn modify(&self, doc: &mut Doc) {
        let components = doc.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(HttpBuilder::new().scheme(HttpAuthScheme::Bearer).bearer_format("JWT").build()),
        );
    }
}

fn problem_response(code: &str, description: &str) -> RefOr<utoipa::openapi::Response> {
    // A typical problem of this status, in English (the document's language; answers are
    // Indonesian unless the request sends `Accept-Language: en`).
    let example = code
        .parse::<u16>()
        .ok()
        .and_then(crate::error::ApiError::example)
        .and_then(|e| serde_json::to_value(e.problem_in(crate::i18n::Lang::En)).ok());
    let content = ContentBuilder::new()
        .schema(Some(RefOr::Ref(utoipa::openapi::Ref::from_schema_name("Problem"))))
        .example(example)
        .build();
    let mut b = ResponseBuilder::new().description(description).content("application/problem+json", content);
    if description.starts_with("Too many") || description.starts_with("Service unavailable") {
        b = b.header(
            "Retry-After",
            utoipa::openapi::HeaderBuilder::new()
                .schema(Some(utoipa::openapi::ObjectBuilder::new().schema_type(utoipa::openapi::schema::Type::Integer)))
                .description(Some("Seconds to wait before retrying"))
                .build(),
        );
    }
    RefOr::T(b.build())
}

/// `Content-Language` on a response whose text follows `Accept-Language`.
fn content_language() -> utoipa::openapi::Header {
    utoipa::openapi::HeaderBuilder::new()
        .schema(Some(
            utoipa::openapi::ObjectBuilder::new()
                .schema_type(utoipa::openapi::schema::Type::String)
                .enum_values(Some(["id", "en"])),
        ))
        .description(Some("The language of the texts: `id` (default) or `en`, as `Accept-Language` asked"))
        .build()
}

/// Every operation reads `Accept-Language` (see `crate::i18n`).
fn add_accept_language(op: &mut Operation) {
    use utoipa::openapi::path::{ParameterBuilder, ParameterIn};
    let param = ParameterBuilder::new()
        .name("Accept-Language")
        .parameter_in(ParameterIn::Header)
        .required(utoipa::openapi::Required::False)
        .description(Some(
            "`id` (default) or `en`, with q-values (`en-US,en;q=0.9`): the language of problem titles \
             and details and of labels. Anything else is answered in Indonesian.",
        ))
        .schema(Some(utoipa::openapi::ObjectBuilder::new().schema_type(utoipa::openapi::schema::Type::String)))
        .example(Some(serde_json::json!("en")))
        .build();
    op.parameters.get_or_insert_with(Vec::new).push(utoipa::openapi::RefOr::T(param));
}

/// Problem documents, and the responses that carry labels, say their language.
fn add_content_language(op: &mut Operation) {
    for (code, response) in op.responses.responses.iter_mut() {
        // A success response labelled through the request view (`status_label`, step labels).
        let labelled = |r: &utoipa::openapi::Response| {
            code.starts_with('2')
                && r.content
                    .get("application/json")
                    .and_then(|c| serde_json::to_string(c).ok())
                    .is_some_and(|s| LABELLED.iter().any(|name| s.contains(&format!("/components/schemas/{name}\""))))
        };
        if let RefOr::T(r) = response
            && (r.content.contains_key("application/problem+json") || labelled(r))
        {
            r.headers.insert("Content-Language".to_owned(), RefOr::T(content_language()));
        }
    }
}

/// The schemas whose labels follow `Accept-Language` (`status_label`, step labels).
const LABELLED: &[&str] = &["RequestView", "Timeline", "Page_RequestView", "SlaReport"];

/// A problem response a route declared itself (with its own description) gets the same
/// typical example as the ones `add_errors` adds, unless it has one.
fn problem_examples(op: &mut Operation) {
    for (code, response) in op.responses.responses.iter_mut() {
        let RefOr::T(r) = response else { continue };
        let Some(RefOr::T(content)) = r.content.get_mut("application/problem+json") else { continue };
        if content.example.is_none() && content.examples.is_empty() {
            content.example = code
                .parse::<u16>()
                .ok()
                .and_then(crate::error::ApiError::example)
                .and_then(|e| serde_json::to_value(e.problem_in(crate::i18n::Lang::En)).ok());
        }
    }
}

/// Signed-in POSTs honour `Idempotency-Key` (see `crate::idempotency`).
fn add_idempotency_key(op: &mut Operation) {
    use utoipa::openapi::path::{ParameterBuilder, ParameterIn};
    let param = ParameterBuilder::new()
        .name("Idempotency-Key")
        .parameter_in(ParameterIn::Header)
        .required(utoipa::openapi::Required::False)
        .description(Some(
            "Send a unique key (e.g. a UUID) to make a retry safe: the same key and body within 24 h \
             replays the first response (`Idempotent-Replayed: true`); the same key with another body is 422. \
             Not applied to multipart uploads.",
        ))
        .schema(Some(
            utoipa::openapi::ObjectBuilder::new()
                .schema_type(utoipa::openapi::schema::Type::String)
                .min_length(Some(1))
                .max_length(Some(255))
                .pattern(Some("^[!-~]+$")),
        ))
        .build();
    op.parameters.get_or_insert_with(Vec::new).push(utoipa::openapi::RefOr::T(param));
}

/// The operations anyone may call, without a token.
const PUBLIC: &[&str] = &[
    "/health/live",
    "/health/ready",
    "/.well-known/jembatan-audit-key",
    "/api/v1/auth/login",
    "/api/v1/auth/refresh",
    "/api/v1/auth/logout",
    "/api/v1/auth/token",
    "/api/v1/audit/checkpoint",
    "/api/v1/audit/public-key",
    "/api/v1/audit/consistency",
];

/// OpenAPI 3.1 requires a description on every response: a success response the handler
/// left undescribed gets the operation's summary (what the caller receives).
fn describe_responses(op: &mut Operation) {
    let summary = op.summary.clone().unwrap_or_default();
    for (code, response) in op.responses.responses.iter_mut() {
        if let RefOr::T(r) = response
            && r.description.trim().is_empty()
        {
            r.description = match code.as_str() {
                "201" => format!("Created: {summary}"),
                "204" => format!("Done (no body): {summary}"),
                _ => summary.clone(),
            };
        }
    }
}

fn add_errors(op: &mut Operation, has_path_params: bool) {
    let secured = op.security.as_ref().is_some_and(|s| !s.is_empty());
    let has_body = op.request_body.is_some();
    let mut add = |code: &str, description: &str| {
        op.responses.responses.entry(code.to_owned()).or_insert_with(|| problem_response(code, description));
    };
    add("400", "Malformed request: unreadable JSON, unknown field, wrong type, bad parameter");
    if secured {
        add("401", "Missing, invalid or expired access token");
        add("403", "Signed in, but not allowed to do this");
    }
    if has_path_params || secured {
        add("404", "Not found, or not visible to you");
    }
    if has_body {
        add("413", "Body too large");
        add("415", "Wrong content type");
    }
    add("422", "Input did not validate; `errors` names each field");
    add("429", "Too many requests");
    add("500", "Unexpected error (logged with the request id)");
    add("503", "Service unavailable: the database is not reachable; retry after the given seconds");
}

/// The complete OpenAPI document, as served and as committed in `openapi/openapi.json`:
/// collected from the routes themselves, then completed by `finish`.
pub fn document() -> utoipa::openapi::OpenApi {
    use utoipa_actix_web::AppExt;
    let (_, doc) = actix_web::App::new().into_utoipa_app().configure(crate::routes::register).split_for_parts();
    finish(doc)
}

/// Completes the collected document: security scheme (via `ApiDoc`), standard errors.
pub fn finish(collected: Doc) -> Doc {
    let mut doc = ApiDoc::openapi();
    doc.paths = collected.paths;
    if let Some(c) = collected.components {
        let target = doc.components.get_or_insert_with(Default::default);
        target.schemas.extend(c.schemas);
        target.responses.extend(c.responses);
    }
    for (path, item) in doc.paths.paths.iter_mut() {
        let has_path_params = path.contains('{');
        // Not on multipart uploads: `crate::idempotency` does not apply to them, so a
        // documented header there would be a promise the server does not keep.
        if let Some(op) = item.post.as_mut().filter(|op| {
            crate::idempotency::applies_to(path)
                && op.security.as_ref().is_some_and(|s| !s.is_empty())
                && !op
                    .request_body
                    .as_ref()
                    .is_some_and(|b| matches!(b, RefOr::T(body) if body.content.contains_key("multipart/form-data")))
        }) {
            add_idempotency_key(op);
        }
        for op in
            [&mut item.get, &mut item.post, &mut item.put, &mut item.patch, &mut item.delete].into_iter().flatten()
        {
            // Public operations say so (`security: []`) instead of leaving it unsaid; an
            // operation that is not on the public list and states no security is a handler
            // that forgot `security(...)`, which would document a guarded route as open.
            if op.security.is_none() {
                assert!(
                    PUBLIC.contains(&path.as_str()),
                    "{path}: state who may call it with `security(...)`, or add it to openapi::PUBLIC"
                );
                op.security = Some(Vec::new());
            }
            describe_responses(op);
            add_errors(op, has_path_params);
            problem_examples(op);
            add_accept_language(op);
            // utoipa names an operation after its handler function, and handlers in different
            // modules share names (`create`, `get_one`, `update`, …). operationIds must be
            // unique (clients are generated from them, and links refer to them).
            if let Some(handler) = op.operation_id.take() {
                op.operation_id = Some(operation_id(path, &handler));
            }
            add_content_language(op);
        }
    }
    add_links(&mut doc);
    optional_bodies(&mut doc);
    add_examples(&mut doc);
    name_page_items(&mut doc);
    prune_unused_schemas(&mut doc);
    doc
}

/// OpenAPI links from what creates a resource to what acts on it, so that clients and
/// schemathesis's stateful phase can chain the calls: a new request to every
/// `/requests/{id}/…` operation (its transitions included), an upload to the document's
/// reads, a new API client to its reads, rotation and revocation.
/// Examples the schemas cannot carry themselves, made from real values so they cannot
/// go stale: the 2025 SOP's definition (a revision starts from it), the regency's hours,
/// and the main responses — a page of requests and a timeline.
fn add_examples(doc: &mut Doc) {
    use serde_json::json;
    let request = serde_json::to_value(<crate::service::requests::RequestView as utoipa::PartialSchema>::schema())
        .ok()
        .and_then(|s| s.get("example").cloned())
        .unwrap_or(json!({}));
    let weekly = serde_json::to_value(crate::service::calendar::WeeklyHours::from(
        &crate::calendar::WeeklySchedule::regency_default(),
    ))
    .unwrap_or_default();
    let mut definition = serde_json::to_value(crate::workflow::sop_2025::external()).unwrap_or_default();
    definition["version"] = json!(2);
    let refresh = json!({"refresh_token": "Jx3n0bq1Vt5mV3yP0qzv5n6o3cM1kqZt1b7d8eR2s4w"});
    let step = json!({
        "id": "01936f5e-0000-7000-8000-0000000000e2", "step_code": "disposition",
        "label": "Disposition by the head of division", "round": 1, "actor": {"role": "head_of_division"},
        "time_standard": "15m", "started_at": "2026-11-23T01:30:00Z", "due_at": "2026-11-23T01:45:00Z",
        "limit_at": "2026-11-23T01:45:00Z", "completed_at": "2026-11-23T01:40:00Z",
        "completed_by": {"id": "01936f5e-0000-7000-8000-0000000000b1", "username": "kabid.aptika",
                         "full_name": "Kepala Bidang Aptika"},
        "completed_by_client_id": null, "outcome": "completed", "note": "Mohon ditindaklanjuti",
        "note_visibility": "public", "working_seconds": 600, "paused_seconds": 0, "sla_state": "on_time",
        "documents": []
    });
    let event = json!({
        "seq": 12, "at": "2026-11-23T01:40:00Z", "action": "request.step_completed",
        "actor": {"id": "01936f5e-0000-7000-8000-0000000000b1", "username": "kabid.aptika",
                  "full_name": "Kepala Bidang Aptika"},
        "actor_client_id": null, "acting_for": null, "acting_kind": null,
        "details": {"from": {"step": "disposition", "status": "in_progress"}, "to": {"step": "follow_up", "status": "in_progress"}},
        "event_id": "0193a1f0-6c00-7000-8000-0000000000e1", "hash": "",
        "leaf_hash": "b5f0b7d0c1c5e3d7a0b1c2d3e4f5a6b7c8d9e0f1a2b3c4d5e6f7a8b9c0d1e2f3", "leaf_index": 41
    });
    let set_body = |doc: &mut Doc, path: &str, example: serde_json::Value| {
        let item = doc.paths.paths.get_mut(path).unwrap_or_else(|| panic!("{path}: no such path"));
        for op in [&mut item.post, &mut item.put].into_iter().flatten() {
            if let Some(RefOr::T(body)) = op.request_body.as_mut() {
                for content in body.content.values_mut() {
                    if let RefOr::T(c) = content {
                        c.example = Some(example.clone());
                    }
                }
            }
        }
    };
    let set_ok = |doc: &mut Doc, path: &str, example: serde_json::Value| {
        let item = doc.paths.paths.get_mut(path).unwrap_or_else(|| panic!("{path}: no such path"));
        if let Some(RefOr::T(ok)) = item.get.as_mut().and_then(|op| op.responses.responses.get_mut("200"))
            && let Some(RefOr::T(content)) = ok.content.get_mut("application/json")
        {
            content.example = Some(example);
        }
    };
    set_body(doc, "/api/v1/auth/refresh", refresh.clone());
    set_body(doc, "/api/v1/auth/logout", refresh);
    set_body(doc, "/api/v1/calendar/weekly-schedule", json!({"hours": weekly, "version": 3}));
    set_body(doc, "/api/v1/workflows/{key}/versions", definition);
    set_body(doc, "/api/v1/requests/{id}/documents", json!({"kind": "request_letter", "file": "(the PDF's bytes)"}));
    set_ok(doc, "/api/v1/requests", json!({"items": [request.clone()], "next_cursor": "AZNvXgAAcACAAAAAAAAAAQ"}));
    set_ok(doc, "/api/v1/requests/{id}/timeline", json!({"request": request, "steps": [step], "events": [event]}));
}

/// utoipa writes a `Page<T>`'s items as an inline copy of `T`: generated clients then
/// get a second type (`PageUserItemsItem` beside `User`). Each page refers to its item's
/// named schema instead, registering it when nothing else had.
fn name_page_items(doc: &mut Doc) {
    let Some(components) = doc.components.as_mut() else { return };
    let pages: Vec<String> = components.schemas.keys().filter(|k| k.starts_with("Page_")).cloned().collect();
    for page in pages {
        let item = page.trim_start_matches("Page_").to_owned();
        let Some(RefOr::T(utoipa::openapi::schema::Schema::Object(obj))) = components.schemas.get_mut(&page) else {
            continue;
        };
        let Some(RefOr::T(utoipa::openapi::schema::Schema::Array(items))) = obj.properties.get_mut("items") else {
            continue;
        };
        let inline = std::mem::replace(
            &mut items.items,
            utoipa::openapi::schema::ArrayItems::RefOrSchema(Box::new(RefOr::Ref(
                utoipa::openapi::Ref::from_schema_name(&item),
            ))),
        );
        if !components.schemas.contains_key(&item)
            && let utoipa::openapi::schema::ArrayItems::RefOrSchema(schema) = inline
        {
            components.schemas.insert(item, *schema);
        }
    }
}

/// Bodies described as optional are not required (a transition without a note takes no
/// body at all).
fn optional_bodies(doc: &mut Doc) {
    for item in doc.paths.paths.values_mut() {
        for op in [&mut item.post, &mut item.put, &mut item.patch].into_iter().flatten() {
            if let Some(RefOr::T(body)) = op.request_body.as_mut()
                && body.description.as_deref() == Some(crate::routes::transitions::OPTIONAL_BODY)
            {
                body.required = Some(utoipa::openapi::Required::False);
            }
        }
    }
}

fn add_links(doc: &mut Doc) {
    const CHAINS: [(&str, &str, &str); 4] = [
        ("/api/v1/requests", "201", "/api/v1/requests/{id}"),
        ("/api/v1/requests/{id}/documents", "201", "/api/v1/documents/{id}"),
        ("/api/v1/api-clients", "201", "/api/v1/api-clients/{id}"),
        ("/api/v1/webhooks", "201", "/api/v1/webhooks/{id}"),
    ];
    for (source, status, prefix) in CHAINS {
        let targets: Vec<(String, String)> = doc
            .paths
            .paths
            .iter()
            .filter(|(path, _)| *path == prefix || path.starts_with(&format!("{prefix}/")))
            .flat_map(|(path, item)| {
                [&item.get, &item.post, &item.put, &item.patch, &item.delete]
                    .into_iter()
                    .flatten()
                    .filter_map(|op| op.operation_id.clone().map(|id| (id, path.clone())))
                    .collect::<Vec<_>>()
            })
            .collect();
        let Some(RefOr::T(response)) = doc
            .paths
            .paths
            .get_mut(source)
            .and_then(|item| item.post.as_mut())
            .and_then(|op| op.responses.responses.get_mut(status))
        else {
            panic!("{source}: no POST with a {status} response to link from");
        };
        for (operation_id, path) in targets {
            let link = utoipa::openapi::link::LinkBuilder::new()
                .operation_id(operation_id.clone())
                .parameter("id", "$response.body#/id")
                .description(format!("The `id` of the created resource, for {path}"))
                .build();
            response.links.insert(operation_id, RefOr::T(link));
        }
    }
}

/// Schemas nothing refers to (a generic page's item type that utoipa also registered on
/// its own): dropped, so the document describes what the API uses and nothing else.
fn prune_unused_schemas(doc: &mut Doc) {
    loop {
        // (A document that cannot be serialized would look as if it used no schema.)
        let text = serde_json::to_string(&*doc).expect("the OpenAPI document serializes");
        let Some(components) = doc.components.as_mut() else { return };
        let unused: Vec<String> = components
            .schemas
            .keys()
            .filter(|name| !text.contains(&format!("\"#/components/schemas/{name}\"")))
            .cloned()
            .collect();
        if unused.is_empty() {
            return;
        }
        for name in unused {
            components.schemas.remove(&name);
        }
    }
}

/// The handler's name, prefixed with the path's fixed segments that it does not already
/// say: `PATCH /api/v1/users/{id}` + `update` → `users_update`; `/api/v1/requests/{id}/
/// documents` + `list` → `requests_documents_list`; `/api/v1/audit/events` + `events` →
/// `audit_events`; `/api/v1/tasks` + `tasks` → `tasks`. The uniqueness test below
/// names any clash.
fn operation_id(path: &str, handler: &str) -> String {
    let rest = path.strip_prefix("/api/v1").unwrap_or(path);
    let fixed = rest.split('/').filter(|s| !s.is_empty() && !s.starts_with('{')).map(|s| s.replace('-', "_"));
    let mut parts: Vec<String> = fixed.filter(|s| !(handler.contains(s.as_str()) || s.contains(handler))).collect();
    parts.push(handler.to_owned());
    parts.join("_")
}

/// What each documented path answers to, so the fallback service can tell "no such
/// path" (404) from "no such method here" (405 with `Allow`). Built once from the same
/// document that is served, so every route registered through utoipa-actix-web is known.
struct KnownPaths(Vec<(Vec<Option<String>>, Vec<&'static str>)>);

const METHODS: [&str; 8] = ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "TRACE"];

impl KnownPaths {
    fn from_doc(doc: &Doc) -> Self {
        let paths = doc
            .paths
            .paths
            .iter()
            .map(|(path, item)| {
                // `None` stands for a `{parameter}` segment, which matches any one segment.
                let segments = path
                    .split('/')
                    .map(|s| (!(s.starts_with('{') && s.ends_with('}'))).then(|| s.to_owned()))
                    .collect();
                let methods = [
                    ("GET", &item.get),
                    ("HEAD", &item.head),
                    ("POST", &item.post),
                    ("PUT", &item.put),
                    ("PATCH", &item.patch),
                    ("DELETE", &item.delete),
                    ("OPTIONS", &item.options),
                    ("TRACE", &item.trace),
                ]
                .into_iter()
                .filter_map(|(name, op)| op.is_some().then_some(name))
                .collect();
                (segments, methods)
            })
            .collect();
        Self(paths)
    }

    /// The methods of the documented path that `path` matches, if any.
    fn allowed(&self, path: &str) -> Option<Vec<&'static str>> {
        let wanted: Vec<&str> = path.split('/').collect();
        let mut methods: Vec<&'static str> = self
            .0
            .iter()
            .filter(|(segments, _)| {
                segments.len() == wanted.len()
                    && segments.iter().zip(&wanted).all(|(s, w)| match s {
                        Some(literal) => literal == w,
                        None => !w.is_empty(),
                    })
            })
            .flat_map(|(_, m)| m.iter().copied())
            .collect();
        methods.sort_by_key(|m| METHODS.iter().position(|o| o == m));
        methods.dedup();
        (!methods.is_empty()).then_some(methods)
    }
}

static KNOWN_PATHS: std::sync::LazyLock<KnownPaths> = std::sync::LazyLock::new(|| KnownPaths::from_doc(&document()));

/// The app's default service: a request that no route took. If its path is one of the
/// API's, the method is what did not match: 405 with `Allow`; otherwise 404. Both are
/// problem+json.
pub async fn unmatched(req: actix_web::HttpRequest) -> actix_web::HttpResponse {
    use crate::error::ApiError;
    match KNOWN_PATHS.allowed(req.path()) {
        Some(methods) => {
            let mut res = actix_web::HttpResponse::from_error(ApiError::MethodNotAllowed);
            if let Ok(v) = actix_web::http::header::HeaderValue::from_str(&methods.join(", ")) {
                res.headers_mut().insert(actix_web::http::header::ALLOW, v);
            }
            res
        }
        None => actix_web::HttpResponse::from_error(ApiError::NotFound(crate::msg!("no-such-resource"))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_paths_tell_missing_methods_from_missing_paths() {
        let known = KnownPaths::from_doc(&document());
        assert_eq!(known.allowed("/api/v1/users"), Some(vec!["GET", "POST"]));
        assert_eq!(known.allowed("/api/v1/users/0190f1f4-6c1e-7d7a-9a4e-3f1d2c3b4a59"), Some(vec!["GET", "PATCH"]));
        assert_eq!(known.allowed("/health/live"), Some(vec!["GET"]));
        assert_eq!(known.allowed("/api/v1/users//"), None);
        assert_eq!(known.allowed("/api/v1/nothing"), None);
        assert_eq!(known.allowed("/api/v1/users/x/y/z"), None);
    }

    /// Every property of every schema, as (schema, property, property's schema).
    fn properties(doc: &serde_json::Value) -> Vec<(String, String, serde_json::Value)> {
        fn walk(owner: &str, s: &serde_json::Value, out: &mut Vec<(String, String, serde_json::Value)>) {
            if let Some(props) = s["properties"].as_object() {
                for (k, v) in props {
                    out.push((owner.to_owned(), k.clone(), v.clone()));
                    walk(owner, v, out);
                }
            }
            for key in ["allOf", "oneOf", "anyOf"] {
                for x in s[key].as_array().into_iter().flatten() {
                    walk(owner, x, out);
                }
            }
            walk_items(owner, s, out);
        }
        fn walk_items(owner: &str, s: &serde_json::Value, out: &mut Vec<(String, String, serde_json::Value)>) {
            if s["items"].is_object() {
                walk(owner, &s["items"], out);
            }
        }
        let mut out = Vec::new();
        for (name, s) in doc["components"]["schemas"].as_object().unwrap() {
            walk(name, s, &mut out);
        }
        out
    }

    /// docs/API-DESIGN.md, "Naming": who did something is a `PersonRef` named for their
    /// part (`actor`, `author`, `completed_by`) or a bare id `<part>_user_id`; an agency
    /// system is `<part>_client_id`. Never `<part>_user`, `<part>_client`, nor an id
    /// under a `…_by` name.
    #[test]
    fn people_and_systems_are_referred_to_one_way() {
        let doc = serde_json::to_value(document()).unwrap();
        let person = |v: &serde_json::Value| v.to_string().contains("#/components/schemas/PersonRef");
        for (owner, name, schema) in properties(&doc) {
            assert!(!name.ends_with("_user") && !name.ends_with("_client"), "{owner}.{name}: add `_id`");
            // `actor` of a step (definition, current step, record, SLA row) is who acts
            // there, in the one actor shape; of an event, the person who did it.
            let step_actor = name == "actor" && schema.to_string().contains("#/components/schemas/Actor\"");
            if name.ends_with("_by") || matches!(name.as_str(), "actor" | "author" | "acting_for") {
                assert!(
                    person(&schema) || step_actor,
                    "{owner}.{name} must be a PersonRef (a bare id is `{name}_user_id`)"
                );
            }
            let is_uuid = schema["format"] == "uuid";
            if is_uuid && (name.contains("user") || name.contains("client")) {
                assert!(name.ends_with("_id") || name.ends_with("_ids"), "{owner}.{name}: an id is named `…_id`");
            }
        }
    }

    /// Every list is a page (`items`, `next_cursor`), never a bare array.
    #[test]
    fn every_list_is_a_page() {
        let doc = serde_json::to_value(document()).unwrap();
        for (path, item) in doc["paths"].as_object().unwrap() {
            for (method, op) in item.as_object().unwrap() {
                let schema = &op["responses"]["200"]["content"]["application/json"]["schema"];
                assert_ne!(schema["type"], "array", "{method} {path} answers a bare array: make it a page");
            }
        }
    }

    /// Every request body has an example (on the body, or on its schema).
    #[test]
    fn every_request_body_has_an_example() {
        let doc = serde_json::to_value(document()).unwrap();
        let schema_of = |s: &serde_json::Value| match s["$ref"].as_str() {
            Some(r) => doc["components"]["schemas"][r.rsplit('/').next().unwrap()].clone(),
            None => s.clone(),
        };
        for (path, item) in doc["paths"].as_object().unwrap() {
            for (method, op) in item.as_object().unwrap() {
                for (ct, c) in op["requestBody"]["content"].as_object().into_iter().flatten() {
                    let has = c.get("example").is_some() || schema_of(&c["schema"]).get("example").is_some();
                    assert!(has, "{method} {path} ({ct}): no example");
                }
            }
        }
    }

    #[test]
    fn operation_ids_are_unique() {
        let doc = document();
        let mut seen = std::collections::BTreeMap::new();
        for (path, item) in &doc.paths.paths {
            for op in [&item.get, &item.post, &item.put, &item.patch, &item.delete].into_iter().flatten() {
                let id = op.operation_id.clone().unwrap_or_default();
                if let Some(other) = seen.insert(id.clone(), path.clone()) {
                    panic!("operationId `{id}` is used by {other} and {path}: rename one handler");
                }
            }
        }
        assert_eq!(seen.get("organizations_update").map(String::as_str), Some("/api/v1/organizations/{id}"));
    }

    /// The patterns in the spec are literals (utoipa takes no constants); they must be
    /// the ones the code enforces.
    #[test]
    fn spec_patterns_are_the_enforced_ones() {
        use crate::shared::text::{EMAIL_PATTERN, TEXT_PATTERN};
        let doc = serde_json::to_value(document()).unwrap();
        let schemas = &doc["components"]["schemas"];
        for (schema, field, pattern) in [
            ("NewOrganization", "name", TEXT_PATTERN),
            ("OrganizationUpdate", "name", TEXT_PATTERN),
            ("NewUser", "full_name", TEXT_PATTERN),
            ("UserUpdate", "full_name", TEXT_PATTERN),
            ("NewApiClient", "name", TEXT_PATTERN),
            ("NewUser", "email", EMAIL_PATTERN),
            ("UserUpdate", "email", EMAIL_PATTERN),
        ] {
            assert_eq!(schemas[schema]["properties"][field]["pattern"], pattern, "{schema}.{field}");
        }
        let standard = crate::calendar::standard::PATTERN;
        assert_eq!(schemas["StepDefinition"]["properties"]["time_standard"]["pattern"], standard);
        let param = |path: &str, name: &str| {
            let params = doc["paths"][path]["get"]["parameters"].as_array().cloned().unwrap_or_default();
            params.into_iter().find(|p| p["name"] == name).unwrap_or_else(|| panic!("{path}: no `{name}`"))
        };
        assert_eq!(param("/api/v1/calendar/due", "standard")["schema"]["pattern"], standard);
        assert_eq!(param("/api/v1/requests", "q")["schema"]["maxLength"], crate::routes::requests::MAX_Q_CHARS);
    }
}
