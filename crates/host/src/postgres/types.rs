//! Value mapping between `spin:postgres/postgres@4.0.0` and tokio-postgres.
//!
//! Each WIT case is read and bound through the same Rust type Spin's own host
//! uses, so a value PostgreSQL accepts or rejects here is accepted or rejected
//! on Spin too (e.g. `datetime` binds to `timestamp`, `timestamp` to `timestamptz`).

use crate::bindings::spin::postgres::postgres::{
    DbDataType, DbValue, ParameterValue, RangeBoundKind,
};
use crate::postgres::wire::{Interval, Null, RangeDecimal, Raw};
use chrono::{Datelike, NaiveDate, NaiveDateTime, NaiveTime, Timelike};
use postgres_range::{BoundSided, BoundType, Normalizable, Range, RangeBound};
use rust_decimal::Decimal;
use tokio_postgres::Row;
use tokio_postgres::types::{FromSql, ToSql, Type};

/// The WIT type of a result column; types without a case are `other(<name>)`.
pub fn column_type(ty: &Type) -> DbDataType {
    match *ty {
        Type::BOOL => DbDataType::Boolean,
        Type::BYTEA => DbDataType::Binary,
        Type::FLOAT4 => DbDataType::Floating32,
        Type::FLOAT8 => DbDataType::Floating64,
        Type::INT2 => DbDataType::Int16,
        Type::INT4 => DbDataType::Int32,
        Type::INT8 => DbDataType::Int64,
        Type::TEXT | Type::VARCHAR | Type::BPCHAR => DbDataType::Str,
        Type::TIMESTAMP | Type::TIMESTAMPTZ => DbDataType::Datetime,
        Type::DATE => DbDataType::Date,
        Type::TIME => DbDataType::Time,
        Type::UUID => DbDataType::Uuid,
        Type::JSONB => DbDataType::Jsonb,
        Type::NUMERIC => DbDataType::Decimal,
        Type::INT4_RANGE => DbDataType::RangeInt32,
        Type::INT8_RANGE => DbDataType::RangeInt64,
        Type::NUM_RANGE => DbDataType::RangeDecimal,
        Type::INT4_ARRAY => DbDataType::ArrayInt32,
        Type::INT8_ARRAY => DbDataType::ArrayInt64,
        Type::NUMERIC_ARRAY => DbDataType::ArrayDecimal,
        Type::TEXT_ARRAY | Type::VARCHAR_ARRAY | Type::BPCHAR_ARRAY => DbDataType::ArrayStr,
        Type::INTERVAL => DbDataType::Interval,
        _ => DbDataType::Other(ty.name().to_owned()),
    }
}

/// Every value of a row, or the first that cannot be converted.
pub fn row_values(row: &Row) -> Result<Vec<DbValue>, tokio_postgres::Error> {
    (0..row.len()).map(|i| value(row, i)).collect()
}

/// Read column `i` as `T` (NULL → `db-null`) and wrap it with `case`.
fn read<'a, T: FromSql<'a>>(
    row: &'a Row,
    i: usize,
    case: impl FnOnce(T) -> DbValue,
) -> Result<DbValue, tokio_postgres::Error> {
    Ok(row
        .try_get::<_, Option<T>>(i)?
        .map_or(DbValue::DbNull, case))
}

fn value(row: &Row, i: usize) -> Result<DbValue, tokio_postgres::Error> {
    match *row.columns()[i].type_() {
        Type::BOOL => read(row, i, DbValue::Boolean),
        Type::BYTEA => read(row, i, DbValue::Binary),
        Type::FLOAT4 => read(row, i, DbValue::Floating32),
        Type::FLOAT8 => read(row, i, DbValue::Floating64),
        Type::INT2 => read(row, i, DbValue::Int16),
        Type::INT4 => read(row, i, DbValue::Int32),
        Type::INT8 => read(row, i, DbValue::Int64),
        Type::TEXT | Type::VARCHAR | Type::BPCHAR => read(row, i, DbValue::Str),
        // Spin reads both through `NaiveDateTime`, which only accepts `timestamp`.
        Type::TIMESTAMP | Type::TIMESTAMPTZ => read(row, i, |v: NaiveDateTime| {
            DbValue::Datetime(datetime_out(v))
        }),
        Type::DATE => read(row, i, |v: NaiveDate| DbValue::Date(date_out(v))),
        Type::TIME => read(row, i, |v: NaiveTime| DbValue::Time(time_out(v))),
        Type::UUID => read(row, i, |v: uuid::Uuid| DbValue::Uuid(v.to_string())),
        Type::JSONB => read(row, i, |v: serde_json::Value| {
            DbValue::Jsonb(v.to_string().into())
        }),
        Type::NUMERIC => read(row, i, |v: Decimal| DbValue::Decimal(v.to_string())),
        Type::INT4_RANGE => read(row, i, |v| DbValue::RangeInt32(range_out(&v, |b| *b))),
        Type::INT8_RANGE => read(row, i, |v| DbValue::RangeInt64(range_out(&v, |b| *b))),
        Type::NUM_RANGE => read(row, i, |v: Range<RangeDecimal>| {
            DbValue::RangeDecimal(range_out(&v, |b| b.0.to_string()))
        }),
        Type::INT4_ARRAY => read(row, i, DbValue::ArrayInt32),
        Type::INT8_ARRAY => read(row, i, DbValue::ArrayInt64),
        Type::NUMERIC_ARRAY => read(row, i, |v: Vec<Option<Decimal>>| {
            DbValue::ArrayDecimal(v.iter().map(|d| d.map(|d| d.to_string())).collect())
        }),
        Type::TEXT_ARRAY | Type::VARCHAR_ARRAY | Type::BPCHAR_ARRAY => {
            read(row, i, DbValue::ArrayStr)
        }
        Type::INTERVAL => read(row, i, |v: Interval| DbValue::Interval(v.0)),
        _ => read(row, i, |v: Raw| DbValue::Unsupported(v.0)),
    }
}

type Bound<T> = Option<(T, RangeBoundKind)>;

fn range_out<T: PartialOrd + Normalizable, U>(
    range: &Range<T>,
    convert: impl Fn(&T) -> U,
) -> (Bound<U>, Bound<U>) {
    fn bound<S: BoundSided, T, U>(
        b: &RangeBound<S, T>,
        convert: impl Fn(&T) -> U,
    ) -> (U, RangeBoundKind) {
        let kind = match b.type_ {
            BoundType::Inclusive => RangeBoundKind::Inclusive,
            BoundType::Exclusive => RangeBoundKind::Exclusive,
        };
        (convert(&b.value), kind)
    }
    (
        range.lower().map(|b| bound(b, &convert)),
        range.upper().map(|b| bound(b, &convert)),
    )
}

fn datetime_out(v: NaiveDateTime) -> (i32, u8, u8, u8, u8, u8, u32) {
    let (year, month, day) = date_out(v.date());
    let (hour, minute, second, nanos) = time_out(v.time());
    (year, month, day, hour, minute, second, nanos)
}

// chrono guarantees month <= 12, day <= 31, hour < 24, minute and second < 60.
fn date_out(v: NaiveDate) -> (i32, u8, u8) {
    (v.year(), v.month() as u8, v.day() as u8)
}

fn time_out(v: NaiveTime) -> (u8, u8, u8, u32) {
    (
        v.hour() as u8,
        v.minute() as u8,
        v.second() as u8,
        v.nanosecond(),
    )
}

/// A parameter as the value tokio-postgres binds, or why it is malformed.
pub type SqlParameter = Box<dyn ToSql + Sync + Send>;

pub fn parameter(value: &ParameterValue) -> Result<SqlParameter, String> {
    Ok(match value {
        ParameterValue::Boolean(v) => Box::new(*v),
        ParameterValue::Int8(v) => Box::new(*v),
        ParameterValue::Int16(v) => Box::new(*v),
        ParameterValue::Int32(v) => Box::new(*v),
        ParameterValue::Int64(v) => Box::new(*v),
        ParameterValue::Floating32(v) => Box::new(*v),
        ParameterValue::Floating64(v) => Box::new(*v),
        ParameterValue::Str(v) => Box::new(v.clone()),
        ParameterValue::Binary(v) => Box::new(v.clone()),
        ParameterValue::Date((y, m, d)) => Box::new(date_in(*y, *m, *d)?),
        ParameterValue::Time((h, min, s, ns)) => Box::new(time_in(*h, *min, *s, *ns)?),
        ParameterValue::Datetime((y, m, d, h, min, s, ns)) => Box::new(NaiveDateTime::new(
            date_in(*y, *m, *d)?,
            time_in(*h, *min, *s, *ns)?,
        )),
        ParameterValue::Timestamp(secs) => Box::new(
            chrono::DateTime::from_timestamp(*secs, 0)
                .ok_or_else(|| format!("invalid Unix timestamp {secs}"))?,
        ),
        ParameterValue::Uuid(v) => {
            Box::new(uuid::Uuid::parse_str(v).map_err(|e| format!("invalid UUID {v:?}: {e}"))?)
        }
        ParameterValue::Jsonb(v) => Box::new(
            serde_json::from_slice::<serde_json::Value>(v)
                .map_err(|e| format!("invalid JSON {:?}: {e}", String::from_utf8_lossy(v)))?,
        ),
        ParameterValue::Decimal(v) => Box::new(decimal_in(v)?),
        ParameterValue::RangeInt32((lo, hi)) => Box::new(discrete_range_in(*lo, *hi, i32::MAX)?),
        ParameterValue::RangeInt64((lo, hi)) => Box::new(discrete_range_in(*lo, *hi, i64::MAX)?),
        ParameterValue::RangeDecimal((lo, hi)) => Box::new(decimal_range_in(lo, hi)?),
        ParameterValue::ArrayInt32(v) => Box::new(v.clone()),
        ParameterValue::ArrayInt64(v) => Box::new(v.clone()),
        ParameterValue::ArrayDecimal(v) => Box::new(
            v.iter()
                .map(|d| d.as_deref().map(decimal_in).transpose())
                .collect::<Result<Vec<_>, _>>()?,
        ),
        ParameterValue::ArrayStr(v) => Box::new(v.clone()),
        ParameterValue::Interval(v) => Box::new(Interval(*v)),
        ParameterValue::DbNull => Box::new(Null),
    })
}

fn date_in(year: i32, month: u8, day: u8) -> Result<NaiveDate, String> {
    NaiveDate::from_ymd_opt(year, month.into(), day.into())
        .ok_or_else(|| format!("invalid date {year:04}-{month:02}-{day:02}"))
}

fn time_in(hour: u8, minute: u8, second: u8, nanos: u32) -> Result<NaiveTime, String> {
    NaiveTime::from_hms_nano_opt(hour.into(), minute.into(), second.into(), nanos)
        .ok_or_else(|| format!("invalid time {hour:02}:{minute:02}:{second:02}.{nanos:09}"))
}

fn decimal_in(text: &str) -> Result<Decimal, String> {
    Decimal::from_str_exact(text).map_err(|e| format!("invalid decimal {text:?}: {e}"))
}

fn kind_in(kind: RangeBoundKind) -> BoundType {
    match kind {
        RangeBoundKind::Inclusive => BoundType::Inclusive,
        RangeBoundKind::Exclusive => BoundType::Exclusive,
    }
}

/// An integer range; bounds are normalised to `[lo, hi)` as PostgreSQL does,
/// which cannot step past `MAX` (the driver would panic, so refuse first).
fn discrete_range_in<T>(lo: Bound<T>, hi: Bound<T>, max: T) -> Result<Range<T>, String>
where
    T: Copy + PartialOrd + Normalizable + std::fmt::Display,
{
    let steps_past_max = matches!(lo, Some((v, RangeBoundKind::Exclusive)) if v == max)
        || matches!(hi, Some((v, RangeBoundKind::Inclusive)) if v == max);
    if steps_past_max {
        return Err(format!("range bound {max} is out of range once normalised"));
    }
    Ok(Range::new(
        lo.map(|(v, k)| RangeBound::new(v, kind_in(k))),
        hi.map(|(v, k)| RangeBound::new(v, kind_in(k))),
    ))
}

fn decimal_range_in(lo: &Bound<String>, hi: &Bound<String>) -> Result<Range<RangeDecimal>, String> {
    fn bound<S: BoundSided>(
        b: &Bound<String>,
    ) -> Result<Option<RangeBound<S, RangeDecimal>>, String> {
        b.as_ref()
            .map(|(v, k)| Ok(RangeBound::new(RangeDecimal(decimal_in(v)?), kind_in(*k))))
            .transpose()
    }
    Ok(Range::new(bound(lo)?, bound(hi)?))
}
