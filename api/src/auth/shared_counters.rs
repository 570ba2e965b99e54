//! Fixed-window counters in the database, shared by every replica, so that a limit holds
//! however a load balancer spreads the attempts (failed sign-ins, API clients' token
//! requests). Each replica's in-memory limiter still answers first: once it refuses, no
//! database write is spent on a flood; the shared count is never lower than a replica's
//! own, so it only ever refuses more.
//!
//! One statement takes a slot in every key at once (an upsert that starts a new window
//! when the old one is over), so two replicas racing on a key cannot both get its last slot.

use sea_orm::sea_query::{Alias, Expr, ExprTrait, OnConflict, Query};
use sea_orm::{ConnectionTrait, DbErr};
use sha2::{Digest, Sha256};

fn table() -> Alias {
    Alias::new("rate_counters")
}

/// A counter's key: `scope:value`, with an over-long value (a hostile user name) hashed so
/// that it fits the column and still counts on its own.
pub fn key(scope: &str, value: &str) -> String {
    if value.len() <= 200 {
        format!("{scope}:{value}")
    } else {
        format!("{scope}:sha256:{}", hex::encode(Sha256::digest(value.as_bytes())))
    }
}

/// Counts one attempt against each `(key, limit)` in the window that holds `now_ms`, and
/// answers the seconds until every key over its limit opens again, if any is.
pub async fn take<C: ConnectionTrait>(
    db: &C,
    now_ms: i64,
    window_ms: i64,
    keys: &[(String, u32)],
) -> Result<Option<u64>, DbErr> {
    let (key, start, count) = (Alias::new("key"), Alias::new("window_start_ms"), Alias::new("count"));
    let mut insert = Query::insert();
    insert.into_table(table()).columns([key.clone(), start.clone(), count.clone()]);
    for (k, _) in keys {
        insert.values_panic([k.clone().into(), now_ms.into(), 1.into()]);
    }
    // Both assignments read the row as it was, so they agree on whether the window is over.
    let over = || Expr::col((table(), start.clone())).lte(now_ms - window_ms);
    insert
        .on_conflict(
            OnConflict::column(key.clone())
                .value(count.clone(), Expr::case(over(), 1).finally(Expr::col((table(), count.clone())).add(1)))
                .value(start.clone(), Expr::case(over(), now_ms).finally(Expr::col((table(), start.clone()))))
                .to_owned(),
        )
        .returning(Query::returning().columns([key, start, count]));
    let rows = db.query_all(&insert).await?;
    let mut wait: Option<u64> = None;
    for row in rows {
        let k: String = row.try_get("", "key")?;
        let started: i64 = row.try_get("", "window_start_ms")?;
        let n: i32 = row.try_get("", "count")?;
        let limit = keys.iter().find(|(key, _)| *key == k).map_or(u32::MAX, |(_, l)| *l);
        if n as i64 > limit as i64 {
            let left_ms = std::cmp::max(started + window_ms - now_ms, 0);
            let secs = std::cmp::max((left_ms as u64).div_ceil(1000), 1);
            wait = Some(wait.map_or(secs, |w| std::cmp::max(w, secs)));
        }
    }
    Ok(wait)
}

/// Clears `reset` (an account that signed in starts over) and gives `give_back` its slot
/// (an address's successful sign-in does not count against it).
pub async fn succeeded<C: ConnectionTrait>(db: &C, reset: &str, give_back: &str) -> Result<(), DbErr> {
    let (key, count) = (Alias::new("key"), Alias::new("count"));
    db.execute(&Query::delete().from_table(table()).and_where(Expr::col(key.clone()).eq(reset)).to_owned()).await?;
    db.execute(
        &Query::update()
            .table(table())
            .value(count.clone(), Expr::col(count.clone()).sub(1))
            .and_where(Expr::col(key).eq(give_back))
            .and_where(Expr::col(count).gt(0))
            .to_owned(),
    )
    .await?;
    Ok(())
}

/// Deletes windows that started before `before_ms` (housekeeping).
pub async fn purge<C: ConnectionTrait>(db: &C, before_ms: i64) -> Result<u64, DbErr> {
    let done = db
        .execute(
            &Query::delete()
                .from_table(table())
                .and_where(Expr::col(Alias::new("window_start_ms")).lt(before_ms))
                .to_owned(),
        )
        .await?;
    Ok(done.rows_affected())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn long_values_are_hashed_to_fit_and_stay_apart() {
        assert_eq!(key("login:u", "budi"), "login:u:budi");
        let a = key("login:u", &"a".repeat(5000));
        let b = key("login:u", &format!("{}b", "a".repeat(4999)));
        assert!(a.len() < 300 && b.len() < 300);
        assert_ne!(a, b);
    }
}
