//! The audit trail becomes a transparency log (issue 13): each event gets its leaf hash
//! when written and its index in the log when the sequencer takes it; the tree's complete
//! subtrees and the signed checkpoints are stored. Events get their `seq` from a
//! sequence (PostgreSQL) instead of the `audit_head` row, whose lock serialized every
//! audited transaction; the old chain's fields stay on the events written before.

use sea_orm_migration::async_trait;
use sea_orm_migration::sea_orm::{ConnectionTrait, DbBackend};
use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum AuditEvents {
    Table,
    LeafHash,
    LeafIndex,
}

#[derive(DeriveIden)]
enum AuditTreeNodes {
    Table,
    Level,
    Idx,
    Hash,
}

#[derive(DeriveIden)]
enum AuditCheckpoints {
    Table,
    Size,
    RootHash,
    Note,
    CreatedAt,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.alter_table(
            Table::alter().table(AuditEvents::Table).add_column(string_len_null(AuditEvents::LeafHash, 64)).to_owned(),
        )
        .await?;
        m.alter_table(
            Table::alter().table(AuditEvents::Table).add_column(big_integer_null(AuditEvents::LeafIndex)).to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("ux_audit_events_leaf_index")
                .table(AuditEvents::Table)
                .col(AuditEvents::LeafIndex)
                .unique()
                .to_owned(),
        )
        .await?;
        m.create_table(
            Table::create()
                .table(AuditTreeNodes::Table)
                .col(integer(AuditTreeNodes::Level))
                .col(big_integer(AuditTreeNodes::Idx))
                .col(string_len(AuditTreeNodes::Hash, 64))
                .primary_key(Index::create().col(AuditTreeNodes::Level).col(AuditTreeNodes::Idx))
                .to_owned(),
        )
        .await?;
        m.create_table(
            Table::create()
                .table(AuditCheckpoints::Table)
                .col(big_integer(AuditCheckpoints::Size).primary_key())
                .col(string_len(AuditCheckpoints::RootHash, 64))
                .col(text(AuditCheckpoints::Note))
                .col(timestamp_with_time_zone(AuditCheckpoints::CreatedAt))
                .to_owned(),
        )
        .await?;
        if m.get_database_backend() == DbBackend::Postgres {
            // nextval() takes no lock other transactions wait on; a rolled-back event
            // leaves a gap in `seq`, which orders nothing any more (the log's index does).
            let db = m.get_connection();
            db.execute_unprepared("CREATE SEQUENCE audit_event_seq").await?;
            db.execute_unprepared(
                "SELECT setval('audit_event_seq', (SELECT COALESCE(MAX(seq), 0) + 1 FROM audit_events), false)",
            )
            .await?;
        }
        Ok(())
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        if m.get_database_backend() == DbBackend::Postgres {
            m.get_connection().execute_unprepared("DROP SEQUENCE IF EXISTS audit_event_seq").await?;
        }
        m.drop_table(Table::drop().table(AuditCheckpoints::Table).to_owned()).await?;
        m.drop_table(Table::drop().table(AuditTreeNodes::Table).to_owned()).await?;
        m.drop_index(Index::drop().name("ux_audit_events_leaf_index").table(AuditEvents::Table).to_owned()).await?;
        m.alter_table(Table::alter().table(AuditEvents::Table).drop_column(AuditEvents::LeafIndex).to_owned()).await?;
        m.alter_table(Table::alter().table(AuditEvents::Table).drop_column(AuditEvents::LeafHash).to_owned()).await?;
        Ok(())
    }
}
