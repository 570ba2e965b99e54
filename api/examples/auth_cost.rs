//! The per-request cost of authentication since issue 10: verifying the access token
//! (type, key id, HS256 signature, claims) and checking its subject in the principal
//! directory (active, organization, token version, revoked session), with a directory of
//! 10 000 users and 1 000 revoked sessions.
//!
//!     cargo run --release -p jembatan --example auth_cost
//!
//! Each measurement is 200 000 calls, repeated five times; the fastest and slowest are
//! printed in nanoseconds per call. Not a test: a figure for docs/benchmarks.md (the
//! target is under 20 µs for the directory check).

use std::hint::black_box;
use std::time::Instant;

use chrono::Utc;
use jembatan::auth::jwt::Subject;
use jembatan::auth::principals::{Presented, Principal, Principals};
use jembatan::auth::{CallerKind, Role, TokenKeys};
use jembatan::config::Settings;
use uuid::Uuid;

const CALLS: u32 = 200_000;

fn measure(name: &str, mut f: impl FnMut()) {
    let mut runs: Vec<f64> = (0..5)
        .map(|_| {
            let start = Instant::now();
            for _ in 0..CALLS {
                f();
            }
            start.elapsed().as_nanos() as f64 / f64::from(CALLS)
        })
        .collect();
    runs.sort_by(f64::total_cmp);
    println!("{name:<44} {:>8.0} – {:>8.0} ns per call", runs[0], runs[4]);
}

fn main() {
    let settings = Settings { jwt_secret: Some("s".repeat(48)), ..Settings::default() };
    let keys = TokenKeys::from_settings(&settings);
    let principals = Principals::default();
    let org = Uuid::now_v7();
    let mut me = Uuid::nil();
    for i in 0..10_000 {
        let id = Uuid::now_v7();
        let roles = vec![Role::Applicant];
        principals.insert(
            CallerKind::User,
            id,
            Principal { active: true, roles, organization_id: org, auth_version: 1 },
        );
        if i == 5_000 {
            me = id;
        }
    }
    principals.revoke_sessions((0..1_000).map(|_| Uuid::now_v7()));
    let session = Uuid::now_v7();
    let subject = Subject { id: me, kind: "user", roles: vec![Role::Applicant], org, sid: Some(session), ver: 1 };
    let token = keys.issue(Utc::now(), subject).expect("a token");

    measure("token verification (typ, kid, HS256, claims)", || {
        black_box(keys.verify(black_box(&token)).is_ok());
    });
    measure("directory check (10 000 users)", || {
        let presented = Presented { kind: CallerKind::User, id: me, session: Some(session), version: 1 };
        black_box(principals.check(black_box(&presented)).is_ok());
    });
    measure("both, as each request does", || {
        let claims = keys.verify(black_box(&token)).expect("valid");
        let presented = Presented {
            kind: CallerKind::User,
            id: claims.sub.parse().expect("uuid"),
            session: claims.sid,
            version: claims.ver,
        };
        black_box(principals.check(&presented).is_ok());
    });
}
