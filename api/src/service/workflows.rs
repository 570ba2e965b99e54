//! Published workflow definitions. Version 1 of both flows is the 2025 SOP, seeded at
//! start; an admin publishes revisions as JSON. A request keeps the definition it
//! started with, so a revision never changes a running request.

use std::collections::HashMap;
use std::sync::{Arc, LazyLock, RwLock};

use entity::workflow_definition;
use sea_orm::{ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, Set};
use serde::Serialize;
use utoipa::ToSchema;
use utoipa::openapi::{RefOr, Schema};
use uuid::Uuid;

use super::audit::{self, Actor};
use crate::error::{ApiError, ApiResult, FieldErrors};
use crate::state::AppState;
use crate::workflow::{Flow, WorkflowDefinition, sop_2025};

/// A definition as published, with when and by whom.
#[derive(Debug, Clone, Serialize)]
pub struct PublishedDefinition {
    pub id: Uuid,
    pub published_at: chrono::DateTime<chrono::Utc>,
    pub published_by_user_id: Option<Uuid>,
    #[serde(flatten)]
    pub definition: WorkflowDefinition,
}

/// The fields `PublishedDefinition` adds to the definition, for its schema.
#[derive(ToSchema)]
#[allow(dead_code)]
struct Publication {
    id: Uuid,
    published_at: chrono::DateTime<chrono::Utc>,
    /// The admin who published it; null for the versions seeded at start.
    published_by_user_id: Option<Uuid>,
}

/// `PublishedDefinition`'s schema is one object: the definition's properties and the
/// publication's. Derived with `#[serde(flatten)]` it would be an `allOf` whose first part,
/// `WorkflowDefinition`, forbids every property it does not name (an input refuses unknown
/// fields) — so no published definition could match it.
impl utoipa::PartialSchema for PublishedDefinition {
    fn schema() -> RefOr<Schema> {
        let (RefOr::T(Schema::Object(mut merged)), RefOr::T(Schema::Object(publication))) =
            (WorkflowDefinition::schema(), Publication::schema())
        else {
            return WorkflowDefinition::schema();
        };
        merged.properties.extend(publication.properties);
        merged.required.extend(publication.required);
        merged.description = Some("A definition as published, with when and by whom.".into());
        RefOr::T(Schema::Object(merged))
    }
}

impl ToSchema for PublishedDefinition {
    fn schemas(schemas: &mut Vec<(String, RefOr<Schema>)>) {
        // What the definition's properties refer to (`Flow`, `StepDefinition`, …).
        WorkflowDefinition::schemas(schemas);
    }
}

fn parse(m: workflow_definition::Model) -> ApiResult<PublishedDefinition> {
    let definition: WorkflowDefinition = serde_json::from_value(m.definition)
        .map_err(|e| ApiError::internal(format!("stored definition {} does not parse: {e}", m.id)))?;
    Ok(PublishedDefinition { id: m.id, published_at: m.published_at, published_by_user_id: m.published_by, definition })
}

/// Inserts version 1 of each flow if that flow has no definition yet.
#[tracing::instrument(level = "debug", skip_all)]
pub async fn seed(state: &AppState) -> ApiResult<()> {
    for def in sop_2025::all() {
        let exists = workflow_definition::Entity::find()
            .filter(workflow_definition::Column::Flow.eq(def.flow.as_str()))
            .one(&state.db)
            .await?
            .is_some();
        if !exists {
            let txn = crate::db::begin_write(&state.db).await?;
            insert(&txn, state.now(), Actor::SYSTEM, def).await?;
            txn.commit().await?;
        }
    }
    Ok(())
}

async fn insert<C: ConnectionTrait>(
    db: &C,
    now: chrono::DateTime<chrono::Utc>,
    actor: Actor,
    def: WorkflowDefinition,
) -> ApiResult<PublishedDefinition> {
    let m = workflow_definition::ActiveModel {
        id: Set(Uuid::now_v7()),
        flow: Set(def.flow.into()),
        version: Set(def.version),
        definition: Set(serde_json::to_value(&def).map_err(ApiError::internal)?),
        published_at: Set(now),
        published_by: Set(actor.user_id),
    }
    .insert(db)
    .await?;
    audit::append(
        db,
        now,
        actor,
        "workflow.published",
        "workflow_definition",
        m.id,
        serde_json::json!({"flow": def.flow, "version": def.version, "sop_number": def.sop_number}),
    )
    .await?;
    parse(m)
}

/// The published definitions whose office work a division's people may do: those that
/// name no division, and those that name `organization_id`'s. `None` when no definition
/// names a division (then nobody's worklist needs the filter).
pub async fn routed_to<C: ConnectionTrait>(db: &C, organization_id: Uuid) -> ApiResult<Option<Vec<Uuid>>> {
    use sea_orm::QuerySelect;
    // Only the ids: each definition comes from the process's cache (`by_id`), so a
    // worklist does not read and parse every definition's JSON on each call.
    let ids: Vec<Uuid> = workflow_definition::Entity::find()
        .select_only()
        .column(workflow_definition::Column::Id)
        .into_tuple()
        .all(db)
        .await?;
    let mut named = Vec::with_capacity(ids.len());
    for id in ids {
        named.push((id, by_id(db, id).await?.definition.office_division.clone()));
    }
    if named.iter().all(|(_, c)| c.is_none()) {
        return Ok(None);
    }
    let own_code = entity::organization::Entity::find_by_id(organization_id).one(db).await?.map(|o| o.code);
    Ok(Some(
        named
            .into_iter()
            .filter(|(_, code)| code.is_none() || code.as_deref() == own_code.as_deref())
            .map(|(id, _)| id)
            .collect(),
    ))
}

/// Published definitions never change (a revision is a new row with a new id), so each is
/// read and parsed once per process: every transition and every request view needs its
/// request's definition. Ids are UUIDv7, unique across databases too.
/// Shared, not cloned: a definition is a few hundred small allocations.
static BY_ID: LazyLock<RwLock<HashMap<Uuid, Arc<PublishedDefinition>>>> = LazyLock::new(Default::default);

#[tracing::instrument(level = "debug", skip_all, fields(id = %id))]
pub async fn by_id<C: ConnectionTrait>(db: &C, id: Uuid) -> ApiResult<Arc<PublishedDefinition>> {
    if let Some(d) = BY_ID.read().unwrap_or_else(|p| p.into_inner()).get(&id) {
        return Ok(Arc::clone(d));
    }
    let m = workflow_definition::Entity::find_by_id(id)
        .one(db)
        .await?
        .ok_or_else(|| ApiError::internal(format!("definition {id} is missing")))?;
    let d = Arc::new(parse(m)?);
    BY_ID.write().unwrap_or_else(|p| p.into_inner()).insert(id, Arc::clone(&d));
    Ok(d)
}

#[tracing::instrument(level = "debug", skip_all)]
pub async fn latest<C: ConnectionTrait>(db: &C, flow: Flow) -> ApiResult<PublishedDefinition> {
    let m = workflow_definition::Entity::find()
        .filter(workflow_definition::Column::Flow.eq(flow.as_str()))
        .order_by_desc(workflow_definition::Column::Version)
        .one(db)
        .await?
        .ok_or_else(|| ApiError::not_found("workflow"))?;
    parse(m)
}

#[tracing::instrument(level = "debug", skip_all)]
pub async fn version(state: &AppState, flow: Flow, version: i32) -> ApiResult<PublishedDefinition> {
    let m = workflow_definition::Entity::find()
        .filter(workflow_definition::Column::Flow.eq(flow.as_str()))
        .filter(workflow_definition::Column::Version.eq(version))
        .one(&state.db)
        .await?
        .ok_or_else(|| ApiError::not_found("workflow version"))?;
    parse(m)
}

/// One published revision of a flow, in a list: what it is and when it took effect. The
/// whole definition is `GET /workflows/{key}?version=N`.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[schema(example = json!({"id": "01936f5e-0000-7000-8000-0000000000f1", "flow": "external", "version": 2,
    "name": "Integrasi Sistem Informasi dari Eksternal", "sop_number": "000.8.3.3/027/SOP/406.020/2025",
    "sop_effective_date": "2025-01-07", "steps": 10, "published_at": "2026-11-20T03:00:00Z",
    "published_by_user_id": "01936f5e-0000-7000-8000-0000000000a1"}))]
pub struct WorkflowVersion {
    pub id: Uuid,
    pub flow: Flow,
    pub version: i32,
    pub name: String,
    pub sop_number: String,
    pub sop_effective_date: chrono::NaiveDate,
    /// How many steps the revision has.
    pub steps: usize,
    pub published_at: chrono::DateTime<chrono::Utc>,
    /// The admin who published it; null for the versions seeded at start.
    pub published_by_user_id: Option<Uuid>,
}

/// The published revisions of a flow, newest first, a page at a time (the cursor is the
/// last version seen).
#[tracing::instrument(level = "debug", skip_all)]
pub async fn versions(
    state: &AppState,
    flow: Flow,
    limit: u64,
    before: Option<i32>,
) -> ApiResult<crate::shared::Page<WorkflowVersion>> {
    use sea_orm::QuerySelect;
    let mut q = workflow_definition::Entity::find()
        .filter(workflow_definition::Column::Flow.eq(flow.as_str()))
        .order_by_desc(workflow_definition::Column::Version)
        .limit(limit + 1);
    if let Some(v) = before {
        q = q.filter(workflow_definition::Column::Version.lt(v));
    }
    let rows = q.all(&state.db).await?.into_iter().map(parse).collect::<ApiResult<Vec<_>>>()?;
    Ok(crate::shared::Page::from_rows_by(
        rows,
        limit,
        |p| encode_version(p.definition.version),
        |p| WorkflowVersion {
            id: p.id,
            flow: p.definition.flow,
            version: p.definition.version,
            name: p.definition.name,
            sop_number: p.definition.sop_number,
            sop_effective_date: p.definition.sop_effective_date,
            steps: p.definition.steps.len(),
            published_at: p.published_at,
            published_by_user_id: p.published_by_user_id,
        },
    ))
}

/// A version as a cursor: 16 big-endian bytes, the shape every cursor has.
pub fn encode_version(version: i32) -> String {
    crate::shared::page::encode_cursor_bytes(i128::from(version).to_be_bytes())
}

/// Any cursor of the documented shape decodes; out-of-range values clamp.
pub fn decode_version(cursor: &str) -> ApiResult<i32> {
    let n = i128::from_be_bytes(crate::shared::page::decode_cursor_bytes(cursor)?);
    Ok(n.clamp(i128::from(i32::MIN), i128::from(i32::MAX)) as i32)
}

/// Publishes a revision: validated, numbered latest + 1 (the body's `version` is
/// ignored, so two admins cannot publish the same number).
#[tracing::instrument(level = "debug", skip_all)]
pub async fn publish(
    state: &AppState,
    actor: Actor,
    flow: Flow,
    mut def: WorkflowDefinition,
) -> ApiResult<PublishedDefinition> {
    if def.flow != flow {
        return Err(ApiError::invalid("flow", crate::msg!("workflow-flow-mismatch", flow = flow)));
    }
    let txn = crate::db::begin_write(&state.db).await?;
    if let Some(code) = def.office_division.as_deref()
        && entity::organization::Entity::find()
            .filter(entity::organization::Column::Code.eq(code))
            .one(&txn)
            .await?
            .is_none_or(|o| o.kind != "division")
    {
        return Err(ApiError::invalid("office_division", crate::msg!("workflow-no-division", code = code)));
    }
    let current = latest(&txn, flow).await?;
    def.version = current.definition.version + 1;
    if let Err(problems) = def.validate() {
        let mut errors = FieldErrors::new();
        for p in problems {
            let key = p.step().map(|s| format!("steps.{s}")).unwrap_or_else(|| "definition".into());
            errors.entry(key).or_default().push(p.to_string().into());
        }
        return Err(ApiError::invalid_fields(errors));
    }
    let published = insert(&txn, state.now(), actor, def).await?;
    txn.commit().await?;
    Ok(published)
}
