//! `entity::row::RequestRow`, the request decoder the read paths use (it skips sea-orm's
//! formatted error on every NULL), reads exactly what sea-orm's derived decoder reads:
//! with the usual NULLs of a fresh request, and with every nullable column set to a value
//! of its own (so two columns of one type read the wrong way round would show).

use chrono::{DateTime, Duration, Utc};
use entity::request;
use entity::row::RequestRow;
use sea_orm::sea_query::Expr;
use sea_orm::{ColumnTrait, DatabaseConnection, EntityTrait, QueryFilter};
use uuid::Uuid;

use crate::evidence::db;
use crate::flows::{Office, submitted};

async fn both(db: &DatabaseConnection, id: Uuid) -> (request::Model, request::Model) {
    let derived = request::Entity::find_by_id(id).one(db).await.unwrap().expect("the request");
    let fast = request::Entity::find_by_id(id).into_model::<RequestRow>().one(db).await.unwrap().expect("the request");
    (derived, fast.0)
}

#[tokio::test]
async fn the_fast_request_decoder_reads_what_the_derived_one_reads() {
    let o = Office::new().await;
    let draft = o.create(&o.budi).await;
    let draft: Uuid = draft["id"].as_str().unwrap().parse().unwrap();
    let db = db(&o.app).await;

    let (derived, fast) = both(&db, draft).await;
    assert!(derived.number.is_none() && derived.submitted_at.is_none() && derived.retired_at.is_none());
    assert_eq!(fast, derived, "a draft, most nullable columns NULL");

    let id: Uuid = submitted(&o).await.parse().unwrap();
    let (derived, fast) = both(&db, id).await;
    assert!(derived.number.is_some() && derived.current_step_instance_id.is_some());
    assert_eq!(fast, derived, "a submitted request");

    // Every nullable column a value of its own (whole seconds: both backends keep them).
    let t0 = DateTime::<Utc>::from_timestamp(1_780_000_000, 0).unwrap();
    let at = |hours: i64| t0 + Duration::hours(hours);
    request::Entity::update_many()
        .col_expr(request::Column::CreatedByClient, Expr::value(Uuid::from_u128(1)))
        .col_expr(request::Column::CurrentStepStartedAt, Expr::value(at(1)))
        .col_expr(request::Column::CurrentWarningAt, Expr::value(at(2)))
        .col_expr(request::Column::CurrentDueAt, Expr::value(at(3)))
        .col_expr(request::Column::CurrentLimitAt, Expr::value(at(4)))
        .col_expr(request::Column::ReturnedAt, Expr::value(at(5)))
        .col_expr(request::Column::BaseUrl, Expr::value("https://api.example.go.id"))
        .col_expr(request::Column::RepositoryUrl, Expr::value("https://git.example.go.id/x"))
        .col_expr(request::Column::SubmittedAt, Expr::value(at(6)))
        .col_expr(request::Column::ClosedAt, Expr::value(at(7)))
        .col_expr(request::Column::WorkingSeconds, Expr::value(12_345_i64))
        .col_expr(request::Column::RetiredAt, Expr::value(at(8)))
        .col_expr(request::Column::RetiredBy, Expr::value(Uuid::from_u128(2)))
        .col_expr(request::Column::RetiredReason, Expr::value("replaced"))
        .filter(request::Column::Id.eq(id))
        .exec(&db)
        .await
        .unwrap();
    let (derived, fast) = both(&db, id).await;
    assert_eq!(derived.retired_by, Some(Uuid::from_u128(2)));
    assert_eq!(derived.current_limit_at, Some(at(4)));
    assert_eq!(fast, derived, "every nullable column set");

    // And the other way round: who created it NULL, a client instead.
    request::Entity::update_many()
        .col_expr(request::Column::CreatedByUser, Expr::value(Option::<Uuid>::None))
        .filter(request::Column::Id.eq(id))
        .exec(&db)
        .await
        .unwrap();
    let (derived, fast) = both(&db, id).await;
    assert!(derived.created_by_user.is_none());
    assert_eq!(fast, derived, "created by a client");
}
