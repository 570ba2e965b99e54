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
`application/problem+json`. Sign in at `/api/v1/auth/login`, then press *Authorize* and paste \
the `access_token`.",
        license(name = "Apache-2.0")
    ),
    components(schemas(Problem)),
    modifiers(&Security),
    tags(
        (name = "auth", description = "Signing in: people (password) and agency systems (client credentials)"),
        (name = "directory", description = "Organizations and users (admin)"),
        (name = "api-clients", description = "Machine clients of agencies (admin)"),
        (name = "workflows", description = "The SOP's flows as versioned definitions"),
        (name = "requests", description = "Integration requests (permohonan): create, read, worklist, catalogue"),
        (name = "transitions", description = "One endpoint per SOP step; who may act is the definition's business"),
        (name = "documents", description = "Documents a step requires: uploaded, checked by content, immutable"),
        (name = "audit", description = "The hash-chained audit trail (admin, auditor)"),
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

fn problem_response(description: &str) -> RefOr<utoipa::openapi::Response> {
    let content =
        ContentBuilder::new().schema(Some(RefOr::Ref(utoipa::openapi::Ref::from_schema_name("Problem")))).build();
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

fn add_errors(op: &mut Operation, has_path_params: bool) {
    let secured = op.security.as_ref().is_some_and(|s| !s.is_empty());
    let has_body = op.request_body.is_some();
    let mut add = |code: &str, description: &str| {
        op.responses.responses.entry(code.to_owned()).or_insert_with(|| problem_response(description));
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
        for op in
            [&mut item.get, &mut item.post, &mut item.put, &mut item.patch, &mut item.delete].into_iter().flatten()
        {
            add_errors(op, has_path_params);
        }
    }
    doc
}
