//! Rate counters shared by every replica (issue 15, item 7): failed sign-ins per account
//! and per address, and API clients' token requests per address, so that a limit holds
//! however a load balancer spreads the attempts. One row per key and fixed window.

use sea_orm_migration::async_trait;
use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum RateCounters {
    Table,
    Key,
    WindowStartMs,
    Count,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(
            Table::create()
                .table(RateCounters::Table)
                .col(string_len(RateCounters::Key, 300).primary_key())
                .col(big_integer(RateCounters::WindowStartMs))
                .col(integer(RateCounters::Count))
                .to_owned(),
        )
        .await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.drop_table(Table::drop().table(RateCounters::Table).to_owned()).await
    }
}
