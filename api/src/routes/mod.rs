//! HTTP glue only: extract the caller, path and body; call a service; map to JSON.
//! Each resource module has `configure()`, registered through utoipa-actix-web so the
//! OpenAPI document is collected from the handlers themselves.

pub mod acting;
pub mod api_clients;
pub mod audit;
pub mod auth;
pub mod calendar;
pub mod caller;
pub mod comments;
pub mod documents;
pub mod events;
pub mod extract;
pub mod health;
pub mod metrics;
pub mod notifications;
pub mod organizations;
pub mod reports;
pub mod requests;
pub mod tasks;
pub mod transitions;
pub mod users;
pub mod webhooks;
pub mod workflows;

/// Bytes (a file) in a response: the schema of the binary download types.
pub struct Bytes;

impl utoipa::PartialSchema for Bytes {
    fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
        use utoipa::openapi::schema::{KnownFormat, ObjectBuilder, SchemaFormat, Type};
        ObjectBuilder::new()
            .schema_type(Type::String)
            .format(Some(SchemaFormat::KnownFormat(KnownFormat::Binary)))
            .into()
    }
}

impl utoipa::ToSchema for Bytes {}

use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse};
use serde::Serialize;
use utoipa_actix_web::service_config::ServiceConfig;

/// Every route the server answers (and the OpenAPI document describes).
pub fn register(cfg: &mut ServiceConfig) {
    cfg.configure(health::configure)
        .configure(metrics::configure)
        .configure(audit::configure_well_known)
        .service(utoipa_actix_web::scope::scope("/api/v1").configure(configure_api));
}

/// Everything under `/api/v1`.
pub fn configure_api(cfg: &mut ServiceConfig) {
    cfg.configure(auth::configure)
        .configure(organizations::configure)
        .configure(users::configure)
        .configure(api_clients::configure)
        .configure(audit::configure)
        .configure(workflows::configure)
        .configure(requests::configure)
        .configure(transitions::configure)
        .configure(documents::configure)
        .configure(tasks::configure)
        .configure(calendar::configure)
        .configure(notifications::configure)
        .configure(comments::configure)
        .configure(events::configure)
        .configure(webhooks::configure)
        .configure(acting::configure)
        .configure(reports::configure);
}

pub fn etag(version: i32) -> (header::HeaderName, String) {
    (header::ETAG, format!("\"{version}\""))
}

/// 200 with the body and its ETag.
pub fn ok_versioned<T: Serialize>(version: i32, body: &T) -> HttpResponse {
    HttpResponse::Ok().insert_header(etag(version)).json(body)
}

/// 201 with `Location` and ETag.
pub fn created<T: Serialize>(location: String, version: i32, body: &T) -> HttpResponse {
    HttpResponse::Created().insert_header((header::LOCATION, location)).insert_header(etag(version)).json(body)
}

/// The client's address, for throttling and the audit trail. Behind reverse proxies
/// listed in `JEMBATAN_TRUSTED_PROXIES` it is the right-most `X-Forwarded-For` entry that
/// is not one of them (entries further left were written by the client and prove nothing);
/// otherwise, the peer address.
pub fn client_address(req: &HttpRequest) -> String {
    let trusted = req
        .app_data::<actix_web::web::Data<crate::state::AppState>>()
        .map(|s| s.settings.trusted_proxy_nets.as_slice())
        .unwrap_or_default();
    let peer = req.peer_addr().map(|a| a.ip());
    let forwarded = req.headers().get_all("x-forwarded-for").filter_map(|v| v.to_str().ok());
    match peer {
        Some(ip) => client_behind(ip, forwarded, trusted).to_string(),
        None => "unknown".into(),
    }
}

/// The first hop, walking back from `peer`, that is not a trusted proxy. An unreadable
/// entry stops the walk at the last address we could trust to have written it.
fn client_behind<'a>(
    peer: std::net::IpAddr,
    forwarded: impl Iterator<Item = &'a str>,
    trusted: &[ipnet::IpNet],
) -> std::net::IpAddr {
    let is_trusted = |ip: &std::net::IpAddr| trusted.iter().any(|n| n.contains(ip));
    // A dual-stack listener sees IPv4 peers as `::ffff:a.b.c.d`: compare them as IPv4.
    let peer = peer.to_canonical();
    if !is_trusted(&peer) {
        return peer;
    }
    let hops: Vec<&str> = forwarded.flat_map(|v| v.split(',')).map(str::trim).collect();
    let mut client = peer;
    for hop in hops.iter().rev() {
        match parse_hop(hop) {
            Some(ip) => {
                client = ip;
                if !is_trusted(&ip) {
                    break;
                }
            }
            None => break,
        }
    }
    client
}

/// An `X-Forwarded-For` entry: an address, possibly with a port (`192.0.2.1:4711`,
/// `[2001:db8::1]:4711`), as some proxies write it.
fn parse_hop(hop: &str) -> Option<std::net::IpAddr> {
    if let Ok(ip) = hop.parse::<std::net::IpAddr>() {
        return Some(ip.to_canonical());
    }
    hop.parse::<std::net::SocketAddr>().ok().map(|a| a.ip().to_canonical())
}

#[cfg(test)]
mod tests {
    use super::client_behind;

    #[test]
    fn forwarded_for_is_believed_only_from_trusted_proxies() {
        let trusted: Vec<ipnet::IpNet> = vec!["10.0.0.0/8".parse().unwrap()];
        let ip = |s: &str| s.parse::<std::net::IpAddr>().unwrap();
        // No proxy configured, or an untrusted peer: the peer, whatever the header says.
        assert_eq!(client_behind(ip("203.0.113.9"), ["1.1.1.1"].into_iter(), &[]), ip("203.0.113.9"));
        assert_eq!(client_behind(ip("203.0.113.9"), ["1.1.1.1"].into_iter(), &trusted), ip("203.0.113.9"));
        // Through two proxies: the right-most untrusted entry, not the spoofable left one.
        let xff = ["6.6.6.6, 198.51.100.7, 10.0.0.2"];
        assert_eq!(client_behind(ip("10.0.0.1"), xff.into_iter(), &trusted), ip("198.51.100.7"));
        // Headers repeated are read in order; garbage stops the walk.
        assert_eq!(client_behind(ip("10.0.0.1"), ["6.6.6.6", "192.0.2.1"].into_iter(), &trusted), ip("192.0.2.1"));
        assert_eq!(client_behind(ip("10.0.0.1"), ["6.6.6.6, junk"].into_iter(), &trusted), ip("10.0.0.1"));
        // Only proxies in the chain: the left-most of them.
        assert_eq!(client_behind(ip("10.0.0.1"), ["10.0.0.5"].into_iter(), &trusted), ip("10.0.0.5"));
        // Mapped peers and entries with ports are understood.
        assert_eq!(client_behind(ip("::ffff:10.0.0.1"), ["192.0.2.9:4711"].into_iter(), &trusted), ip("192.0.2.9"));
        assert_eq!(client_behind(ip("10.0.0.1"), ["[2001:db8::7]:80"].into_iter(), &trusted), ip("2001:db8::7"));
    }
}
