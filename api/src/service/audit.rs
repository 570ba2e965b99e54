//! The audit trail: append-only and hash-chained, written in the same transaction as the
//! change it records. Each event's hash covers its content and the previous event's hash,
//! so any later edit, deletion or reordering breaks the chain and `verify` finds it.

use chrono::{DateTime, Utc};
use entity::{audit_event, audit_head};
use sea_orm::sea_query::Expr;
use sea_orm::{ConnectionTrait, DbBackend, EntityTrait, QueryFilter, QueryOrder, QuerySelect};
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

/// The exact bytes the old chain hashed: fixed field order, fixed timestamp format.
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

/// The old chain's hash of an event written before the transparency log.
pub fn chain_hash_of(m: &audit_event::Model) -> String {
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

/// The bytes an event's leaf hash covers: its content as canonical JSON (object keys
/// sorted at every depth, no spaces, timestamps to the microsecond): who (and for whom,
/// in `details`), what, about which object, from → to, note, output and documents with
/// their SHA-256, as the service recorded them. Its place in the log is not part of it.
pub fn leaf_bytes(m: &audit_event::Model) -> Vec<u8> {
    let v = serde_json::json!({
        "id": m.id,
        "occurred_at": timestamp(m.occurred_at),
        "actor_user_id": m.actor_user_id,
        "actor_client_id": m.actor_client_id,
        "action": m.action,
        "object_type": m.object_type,
        "object_id": m.object_id,
        "details": m.details,
    });
    crate::tlog::canonical_json(&v)
}

/// The hex leaf hash (RFC 9162) of an event.
pub fn leaf_hash_of(m: &audit_event::Model) -> String {
    hex::encode(crate::tlog::leaf_hash(&leaf_bytes(m)))
}

/// Appends one event, with its leaf hash. Call inside the transaction that makes the
/// change. No lock is shared with other transactions: `seq` comes from a sequence on
/// PostgreSQL (on SQLite writers are serialized anyway), and the event's place in the log
/// is given later by the sequencer (`service::tlog`).
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
    use audit_event::Column as E;
    use sea_orm::sea_query::Query;
    let backend = txn.get_database_backend();
    let mut event = audit_event::Model {
        seq: 0,
        id: Uuid::now_v7(),
        occurred_at: at,
        actor_user_id: actor.user_id,
        actor_client_id: actor.client_id,
        action: action.to_owned(),
        object_type: object_type.to_owned(),
        object_id,
        details,
        prev_hash: String::new(),
        hash: String::new(),
        leaf_hash: None,
        leaf_index: None,
    };
    event.leaf_hash = Some(leaf_hash_of(&event));
    let seq = match backend {
        DbBackend::Postgres => Expr::cust("nextval('audit_event_seq')"),
        _ => Expr::cust("(SELECT COALESCE(MAX(\"seq\"), 0) + 1 FROM \"audit_events\")"),
    };
    let stmt = Query::insert()
        .into_table(audit_event::Entity)
        .columns([
            E::Seq,
            E::Id,
            E::OccurredAt,
            E::ActorUserId,
            E::ActorClientId,
            E::Action,
            E::ObjectType,
            E::ObjectId,
            E::Details,
            E::PrevHash,
            E::Hash,
            E::LeafHash,
        ])
        .values_panic([
            seq,
            Expr::val(event.id),
            Expr::val(event.occurred_at),
            Expr::val(event.actor_user_id),
            Expr::val(event.actor_client_id),
            Expr::val(event.action.clone()),
            Expr::val(event.object_type.clone()),
            Expr::val(event.object_id),
            Expr::val(event.details.clone()),
            Expr::val(""),
            Expr::val(""),
            Expr::val(event.leaf_hash.clone()),
        ])
        .returning_col(E::Seq)
        .to_owned();
    let row = txn.query_one(&stmt).await?.ok_or_else(|| ApiError::internal("the audit insert returned nothing"))?;
    event.seq = row.try_get("", "seq")?;
    Ok(event)
}

/// The result of checking the audit trail: the old hash chain (events written before
/// the transparency log), then the log against its signed checkpoints.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ChainReport {
    /// True when the old chain links and matches, every logged event matches its leaf
    /// hash, the tree matches every checkpoint (in the database and in the checkpoint
    /// file outside it), and each checkpoint's signature verifies.
    pub intact: bool,
    pub events_checked: i64,
    /// The first event (by `seq`) found altered, or after which events are missing.
    pub first_broken_seq: Option<i64>,
    /// The first log index found wrong.
    pub first_broken_index: Option<i64>,
    pub problem: Option<String>,
    /// The last `seq` of the old chain.
    pub head_seq: i64,
    /// Events in the log (sequenced).
    pub log_size: i64,
    /// Events written but not yet sequenced (the sequencer takes them within seconds).
    pub pending: i64,
    /// Checkpoints checked: in the database, and in the file outside it.
    pub checkpoints_checked: i64,
    pub witness_checkpoints_checked: i64,
}

impl ChainReport {
    pub(crate) fn broken(mut self, seq: Option<i64>, index: Option<i64>, why: impl Into<String>) -> ChainReport {
        self.intact = false;
        self.first_broken_seq = seq;
        self.first_broken_index = index;
        self.problem = Some(why.into());
        self
    }
}

/// Checks the old chain: the events written before the transparency log, `seq` 1 to the
/// head row's, each linking to its predecessor. The report's counters cover them.
#[tracing::instrument(level = "debug", skip_all)]
pub async fn verify_chain<C: ConnectionTrait>(db: &C) -> ApiResult<ChainReport> {
    let head = audit_head::Entity::find_by_id(1).one(db).await?.ok_or_else(|| ApiError::internal("no audit head"))?;
    let mut report = ChainReport {
        intact: true,
        events_checked: 0,
        first_broken_seq: None,
        first_broken_index: None,
        problem: None,
        head_seq: head.seq,
        log_size: 0,
        pending: 0,
        checkpoints_checked: 0,
        witness_checkpoints_checked: 0,
    };
    let mut prev = "0".repeat(64);
    let mut expected_seq = 1i64;
    let mut after = 0i64;
    loop {
        let batch = audit_event::Entity::find()
            .filter(sea_orm::ColumnTrait::gt(&audit_event::Column::Seq, after))
            .filter(sea_orm::ColumnTrait::lte(&audit_event::Column::Seq, head.seq))
            .order_by_asc(audit_event::Column::Seq)
            .limit(1000)
            .all(db)
            .await?;
        if batch.is_empty() {
            break;
        }
        for e in batch {
            report.events_checked += 1;
            if e.seq != expected_seq {
                return Ok(report.broken(Some(expected_seq), None, "an event of the old chain is missing"));
            }
            if e.prev_hash != prev {
                return Ok(report.broken(Some(e.seq), None, "the event does not link to its predecessor"));
            }
            if chain_hash_of(&e) != e.hash {
                return Ok(report.broken(Some(e.seq), None, "the event's content does not match its hash"));
            }
            prev = e.hash.clone();
            expected_seq += 1;
            after = e.seq;
        }
    }
    if after != head.seq || (head.seq > 0 && prev != head.hash) {
        return Ok(report.broken(Some(after + 1), None, "events after the last one found are missing"));
    }
    Ok(report)
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
    /// The old chain's link (events before the transparency log; empty after).
    pub prev_hash: String,
    /// The old chain's SHA-256 over content and `prev_hash` (empty after).
    pub hash: String,
    /// Hex RFC 9162 leaf hash of the event's canonical content.
    pub leaf_hash: Option<String>,
    /// The event's index in the transparency log (null until sequenced, within seconds).
    pub leaf_index: Option<i64>,
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
            leaf_hash: m.leaf_hash,
            leaf_index: m.leaf_index,
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

/// What an inclusion proof needs of an event, and what decides who may see it: not the
/// event's details (decoding every event's JSON was a tenth of a proof lookup), only
/// whether they mark it internal.
#[derive(Debug)]
pub struct LoggedEvent {
    pub id: Uuid,
    pub leaf_index: Option<i64>,
    pub leaf_hash: Option<String>,
    /// `details.visibility` is `internal` (an internal note: the office's eyes only).
    pub internal: bool,
    /// The organization that applies for the request the event is about (none when it is
    /// not about a request): who may see the event.
    pub request_organization: Option<Uuid>,
}

/// One event by id, as a proof needs it, with its request's organization: one query.
pub async fn find_logged<C: ConnectionTrait>(db: &C, id: Uuid) -> ApiResult<Option<LoggedEvent>> {
    use audit_event::Column as E;
    use sea_orm::{ColumnTrait, EntityTrait, JoinType, QuerySelect, RelationDef};
    let visibility = match db.get_database_backend() {
        sea_orm::DbBackend::Postgres => Expr::cust("audit_events.details->>'visibility'"),
        _ => Expr::cust("json_extract(audit_events.details, '$.visibility')"),
    };
    let about: RelationDef = audit_event::Entity::belongs_to(entity::request::Entity)
        .from(E::ObjectId)
        .to(entity::request::Column::Id)
        .into();
    type Row = (Uuid, String, Option<i64>, Option<String>, Option<String>, Option<Uuid>);
    let row: Option<Row> = audit_event::Entity::find()
        .select_only()
        .columns([E::Id, E::ObjectType, E::LeafIndex, E::LeafHash])
        .expr(visibility)
        .column(entity::request::Column::OrganizationId)
        .join(JoinType::LeftJoin, about)
        .filter(E::Id.eq(id))
        .into_tuple()
        .one(db)
        .await?;
    Ok(row.map(|(id, object_type, leaf_index, leaf_hash, visibility, organization)| LoggedEvent {
        request_organization: organization.filter(|_| object_type == "request"),
        id,
        leaf_index,
        leaf_hash,
        internal: visibility.as_deref() == Some("internal"),
    }))
}
