//! `serve --demo`: a living system for a Swagger UI visitor — Diskominfo's divisions, a
//! few agencies, one user per role, all with one printed password. Idempotent.

use entity::{organization, user};
use sea_orm::{ActiveModelTrait, ColumnTrait, EntityTrait, QueryFilter, Set};
use uuid::Uuid;

use crate::auth::{Role, password};
use crate::bootstrap;
use crate::error::ApiResult;
use crate::service::audit::{self, Actor};
use crate::service::users;
use crate::state::AppState;

pub const DEMO_PASSWORD: &str = "jembatan-demo-2026";

const ORGANIZATIONS: &[(&str, &str, &str)] = &[
    ("APTIKA", "Bidang Aplikasi Informatika, Diskominfo", "division"),
    ("IKP", "Bidang Informasi dan Komunikasi Publik, Diskominfo", "division"),
    ("DINKES", "Dinas Kesehatan", "agency"),
    ("DISPENDUKCAPIL", "Dinas Kependudukan dan Pencatatan Sipil", "agency"),
    ("BAPPEDA", "Badan Perencanaan Pembangunan Daerah", "agency"),
    ("DPMPTSP", "Dinas Penanaman Modal dan Pelayanan Terpadu Satu Pintu", "agency"),
];

/// (username, full name, organization code, role)
const USERS: &[(&str, &str, &str, Role)] = &[
    ("admin", "Administrator Sistem", bootstrap::OFFICE_CODE, Role::Admin),
    ("auditor", "Inspektorat (pemeriksa)", bootstrap::OFFICE_CODE, Role::Auditor),
    ("kadis", "Kepala Dinas Kominfo", bootstrap::OFFICE_CODE, Role::HeadOfAgency),
    ("kabid.aptika", "Kepala Bidang Aptika", "APTIKA", Role::HeadOfDivision),
    ("kasi.teknis", "Kepala Seksi / Ketua Tim Teknis IT", "APTIKA", Role::TechnicalLead),
    ("teknisi.andi", "Andi Pratama (Tim Teknis IT)", "APTIKA", Role::TechnicalStaff),
    ("teknisi.sari", "Sari Wulandari (Tim Teknis IT)", "APTIKA", Role::TechnicalStaff),
    ("pemohon.dinkes", "Staf Dinas Kesehatan", "DINKES", Role::Applicant),
    ("pemohon.dukcapil", "Staf Dispendukcapil", "DISPENDUKCAPIL", Role::Applicant),
    ("pemohon.ikp", "Staf Bidang IKP", "IKP", Role::Applicant),
];

pub async fn seed(state: &AppState) -> ApiResult<Vec<(&'static str, Role)>> {
    bootstrap::office(state).await?;
    for (code, name, kind) in ORGANIZATIONS {
        if organization::Entity::find().filter(organization::Column::Code.eq(*code)).one(&state.db).await?.is_some() {
            continue;
        }
        let now = state.now();
        let txn = crate::db::begin_write(&state.db).await?;
        let m = organization::ActiveModel {
            id: Set(Uuid::now_v7()),
            code: Set((*code).into()),
            name: Set((*name).into()),
            kind: Set((*kind).into()),
            active: Set(true),
            version: Set(1),
            created_at: Set(now),
            updated_at: Set(now),
        }
        .insert(&txn)
        .await?;
        audit::append(
            &txn,
            now,
            Actor::SYSTEM,
            "organization.created",
            "organization",
            m.id,
            serde_json::json!({"code": code, "demo": true}),
        )
        .await?;
        txn.commit().await?;
    }
    let hash = password::hash(DEMO_PASSWORD.into()).await?;
    for (username, full_name, org_code, role) in USERS {
        if user::Entity::find().filter(user::Column::Username.eq(*username)).one(&state.db).await?.is_some() {
            continue;
        }
        let Some(org) =
            organization::Entity::find().filter(organization::Column::Code.eq(*org_code)).one(&state.db).await?
        else {
            continue;
        };
        users::insert(
            state,
            Actor::SYSTEM,
            (*username).into(),
            (*full_name).into(),
            hash.clone(),
            org.id,
            vec![*role],
            None,
            None,
        )
        .await?;
    }
    Ok(USERS.iter().map(|(u, _, _, r)| (*u, *r)).collect())
}
