//! `Stored<T>`: a column that holds one of the domain's names (`Status`, `StepCode`, `Flow`,
//! `DocumentKind`, `CurrentActor`, `StepOutcome`) as its wire spelling. The text in the
//! database is exactly what it was as a `String` column (no data migration); reading a
//! value the domain does not know is an error (`DbErr::Type`), never a default.

use std::fmt::Display;
use std::ops::Deref;
use std::str::FromStr;

use sea_orm::sea_query::{ArrayType, ColumnType, Nullable, StringLen, ValueType, ValueTypeErr};
use sea_orm::{ColIdx, DbErr, QueryResult, TryGetError, TryGetable, Value};

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Stored<T>(pub T);

impl<T> Deref for Stored<T> {
    type Target = T;
    fn deref(&self) -> &T {
        &self.0
    }
}

impl<T> From<T> for Stored<T> {
    fn from(value: T) -> Self {
        Stored(value)
    }
}

impl<T: Display> From<Stored<T>> for Value {
    fn from(v: Stored<T>) -> Self {
        v.0.to_string().into()
    }
}

impl<T: FromStr> TryGetable for Stored<T> {
    fn try_get_by<I: ColIdx>(res: &QueryResult, idx: I) -> Result<Self, TryGetError> {
        let s = String::try_get_by(res, idx)?;
        s.parse().map(Stored).map_err(|_| TryGetError::DbErr(DbErr::Type(format!("unknown stored value `{s}`"))))
    }
}

impl<T: FromStr> ValueType for Stored<T> {
    fn try_from(v: Value) -> Result<Self, ValueTypeErr> {
        let s = <String as ValueType>::try_from(v)?;
        s.parse().map(Stored).map_err(|_| ValueTypeErr)
    }

    fn type_name() -> String {
        "Stored".to_owned()
    }

    fn array_type() -> ArrayType {
        ArrayType::String
    }

    fn column_type() -> ColumnType {
        ColumnType::String(StringLen::None)
    }
}

impl<T> Nullable for Stored<T> {
    fn null() -> Value {
        Value::String(None)
    }
}

impl<T: Display> Display for Stored<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.0.fmt(f)
    }
}

impl<T: serde::Serialize> serde::Serialize for Stored<T> {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        self.0.serialize(s)
    }
}

impl<T: PartialEq> PartialEq<T> for Stored<T> {
    fn eq(&self, other: &T) -> bool {
        self.0 == *other
    }
}
