//! The audit trail: append-only and hash-chained, written in the same transaction as the
//! change it records. Each event's hash covers its content and the previous event's hash,
//! so any later edit, deletion or reordering breaks the chain and `verify` finds it.

use chrono::{DateTime, Utc};
use entity::{audit_event, audit_head};
use sea_orm::sea_query::Expr;
use sea_orm::{ConnectionTrait, DbBackend, EntityTrait, QueryFilter, QueryOrder, QuerySelect, QueryTrait, Statement};
use serde::Serialize;
use sha2::{Digest, Sha256};
use utoipa::ToSchema;
use uuid::Uuid;

use crate::auth::Caller;
use crate::error::{ApiError, ApiResult};
use crate::shared::page::{decode_cursor_bytes, encode_cursor_bytes};

/// Who did it: a user, an agency system, or the service itself (jobs, bootstrap).
#[derive(Debug, Clone, Copy, Default)]
pub struct Actor {
    pub user_id: Option<Uuid>,
    pub client_id: Option<Uuid>,
}

impl From<&Caller> for Actor {
    fn from(c: &Caller) -> Self {
        Actor { user_id: c.user_id(), client_id: c.client_id() }
    }
}

impl Actor {
    pub const SYSTEM: Actor = Actor { user_id: None, client_id: None };
}

/// The exact bytes that are hashed: fixed field order, fixed timestamp format.
#[derive(Serialize)]
struct Hashed<'a> {
    seq: i64,
    id: Uuid,
    occurred_at: String,
    actor_user_id: Option<Uuid>,
    actor_client_id: Option<Uuid>,
    action: &'a str,
    object_type: &'a str,
    object_id: Uuid,
    details: &'a serde_json::Value,
    prev_hash: &'a str,
}

fn timestamp(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(chrono::SecondsFormat::Micros, true)
}

fn hash_of(m: &audit_event::Model) -> String {
    let content = Hashed {
        seq: m.seq,
        id: m.id,
        occurred_at: timestamp(m.occurred_at),
        actor_user_id: m.actor_user_id,
        actor_client_id: m.actor_client_id,
        action: &m.action,
        object_type: &m.object_type,
        object_id: m.object_id,
        details: &m.details,
        prev_hash: &m.prev_hash,
    };
    let bytes = serde_json::to_vec(&content).unwrap_or_default();
    hex::encode(Sha256::digest(bytes))
}

/// Appends one event. Call inside the transaction that makes the change.
#[tracing::instrument(level = "debug", skip_all)]
pub async fn append<C: ConnectionTrait>(
    txn: &C,
    at: DateTime<Utc>,
    actor: Actor,
    action: &str,
    object_type: &str,
    object_id: Uuid,
    details: serde_json::Value,
) -> ApiResult<audit_event::Model> {
    let backend = txn.get_database_backend();
    // Taking the head row's write lock first serializes audited transactions, so the
    // chain stays a line even with several replicas writing. The lock is held until
    // COMMIT, so callers append last, and only one more statement follows here.
    let head = txn
        .query_one_raw(Statement::from_string(
            backend,
            r#"UPDATE "audit_head" SET "seq" = "seq" + 1 WHERE "id" = 1 RETURNING "seq", "hash""#,
        ))
        .await?
        .ok_or_else(|| ApiError::internal("audit head row missing"))?;
    let mut event = audit_event::Model {
        seq: head.try_get("", "seq")?,
        id: Uuid::now_v7(),
        occurred_at: at,
        actor_user_id: actor.user_id,
        actor_client_id: actor.client_id,
        action: action.to_owned(),
        object_type: object_type.to_owned(),
        object_id,
        details,
        prev_hash: head.try_get("", "hash")?,
        hash: String::new(),
    };
    event.hash = hash_of(&event);
    let insert = audit_event::Entity::insert(audit_event::ActiveModel::from(event.clone())).build(backend);
    if backend == DbBackend::Postgres {
        // Moving the head and inserting the event in one statement: one round trip less
        // while every other audited transaction waits for the lock.
        let mut values = insert.values.map(|v| v.0).unwrap_or_default();
        values.push(event.hash.clone().into());
        let sql = format!(
            r#"WITH "moved" AS (UPDATE "audit_head" SET "hash" = ${} WHERE "id" = 1) {}"#,
            values.len(),
            insert.sql
        );
        txn.execute_raw(Statement::from_sql_and_values(backend, sql, values)).await?;
    } else {
        // SQLite has no data-modifying WITH, and a statement there costs no round trip.
        audit_head::Entity::update_many()
            .col_expr(audit_head::Column::Hash, Expr::value(event.hash.clone()))
            .filter(sea_orm::ColumnTrait::eq(&audit_head::Column::Id, 1))
            .exec(txn)
            .await?;
        txn.execute_raw(insert).await?;
    }
    Ok(event)
}

/// The result of checking the whole chain.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ChainReport {
    /// True when every event's hash matches its content and links to its predecessor.
    pub intact: bool,
    pub events_checked: i64,
    /// The first event (by sequence number) where the chain breaks.
    pub first_broken_seq: Option<i64>,
    pub problem: Option<String>,
    pub head_seq: i64,
}

#[tracing::instrument(level = "debug", skip_all)]
pub async fn verify<C: ConnectionTrait>(db: &C) -> ApiResult<ChainReport> {
    let head = audit_head::Entity::find_by_id(1).one(db).await?.ok_or_else(|| ApiError::internal("no audit head"))?;
    let mut prev = "0".repeat(64);
    let mut expected_seq = 1i64;
    let mut checked = 0i64;
    let mut after = 0i64;
    let broken = |seq: i64, why: &str, checked: i64| ChainReport {
        intact: false,
        events_checked: checked,
        first_broken_seq: Some(seq),
        problem: Some(why.to_owned()),
        head_seq: head.seq,
    };
    loop {
        let batch = audit_event::Entity::find()
            .filter(sea_orm::ColumnTrait::gt(&audit_event::Column::Seq, after))
            .order_by_asc(audit_event::Column::Seq)
            .limit(1000)
            .all(db)
            .await?;
        if batch.is_empty() {
            break;
        }
        for e in batch {
            checked += 1;
            if e.seq != expected_seq {
                return Ok(broken(expected_seq, "an event is missing", checked));
            }
            if e.prev_hash != prev {
                return Ok(broken(e.seq, "the event does not link to its predecessor", checked));
            }
            if hash_of(&e) != e.hash {
                return Ok(broken(e.seq, "the event's content does not match its hash", checked));
            }
            prev = e.hash.clone();
            expected_seq += 1;
            after = e.seq;
        }
    }
    if after != head.seq || prev != head.hash {
        return Ok(broken(after + 1, "events after the last one found are missing", checked));
    }
    Ok(ChainReport { intact: true, events_checked: checked, first_broken_seq: None, problem: None, head_seq: head.seq })
}

#[derive(Debug, Serialize, ToSchema)]
pub struct AuditEvent {
    /// Position in the chain, from 1, without gaps.
    pub seq: i64,
    pub id: Uuid,
    pub occurred_at: chrono::DateTime<chrono::Utc>,
    pub actor_user_id: Option<Uuid>,
    /// Set when an agency system (API client) acted.
    pub actor_client_id: Option<Uuid>,
    #[schema(example = "request.submitted")]
    pub action: String,
    #[schema(example = "request")]
    pub object_type: String,
    pub object_id: Uuid,
    #[schema(value_type = Object)]
    pub details: serde_json::Value,
    pub prev_hash: String,
    /// SHA-256 over this event's content and `prev_hash`.
    pub hash: String,
}

impl From<audit_event::Model> for AuditEvent {
    fn from(m: audit_event::Model) -> Self {
        Self {
            seq: m.seq,
            id: m.id,
            occurred_at: m.occurred_at,
            actor_user_id: m.actor_user_id,
            actor_client_id: m.actor_client_id,
            action: m.action,
            object_type: m.object_type,
            object_id: m.object_id,
            details: m.details,
            prev_hash: m.prev_hash,
            hash: m.hash,
        }
    }
}

/// The audit cursor is the last `seq` seen, as 16 big-endian bytes: the same shape as
/// every other cursor, so any cursor the spec allows decodes (out-of-range values clamp).
pub fn encode_seq(seq: i64) -> String {
    encode_cursor_bytes(i128::from(seq).to_be_bytes())
}

pub fn decode_seq(cursor: &str) -> Result<i64, ApiError> {
    let n = i128::from_be_bytes(decode_cursor_bytes(cursor)?);
    Ok(n.clamp(i128::from(i64::MIN), i128::from(i64::MAX)) as i64)
}

/// Audit events, newest first, after the cursor's `seq`, optionally about one object, by
/// one user, or of one action.
#[tracing::instrument(level = "debug", skip_all)]
pub async fn list_events<C: sea_orm::ConnectionTrait>(
    db: &C,
    object_id: Option<Uuid>,
    actor_user_id: Option<Uuid>,
    action: Option<&str>,
    limit: u64,
    after: Option<i64>,
) -> ApiResult<crate::shared::Page<AuditEvent>> {
    use sea_orm::ColumnTrait;
    let mut q = audit_event::Entity::find().order_by_desc(audit_event::Column::Seq).limit(limit + 1);
    if let Some(seq) = after {
        q = q.filter(audit_event::Column::Seq.lt(seq));
    }
    if let Some(o) = object_id {
        q = q.filter(audit_event::Column::ObjectId.eq(o));
    }
    if let Some(u) = actor_user_id {
        q = q.filter(audit_event::Column::ActorUserId.eq(u));
    }
    if let Some(a) = action {
        q = q.filter(audit_event::Column::Action.eq(a));
    }
    let rows = q.all(db).await?;
    Ok(crate::shared::Page::from_rows_by(rows, limit, |r| encode_seq(r.seq), AuditEvent::from))
}
