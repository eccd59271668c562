//! tokio-postgres `ToSql`/`FromSql` for the values the driver has no type for:
//! intervals, untyped NULL, raw values of unsupported types, decimal ranges.

use crate::bindings::spin::postgres::postgres as pg;
use bytes::{BufMut, BytesMut};
use postgres_range::{BoundSided, Normalizable, RangeBound};
use std::error::Error;
use tokio_postgres::types::{FromSql, IsNull, ToSql, Type, to_sql_checked};

type BoxError = Box<dyn Error + Sync + Send>;

/// An `interval`: microseconds, days and months, as PostgreSQL sends them.
#[derive(Debug)]
pub struct Interval(pub pg::Interval);

impl ToSql for Interval {
    fn to_sql(&self, _: &Type, out: &mut BytesMut) -> Result<IsNull, BoxError> {
        out.put_i64(self.0.micros);
        out.put_i32(self.0.days);
        out.put_i32(self.0.months);
        Ok(IsNull::No)
    }

    fn accepts(ty: &Type) -> bool {
        *ty == Type::INTERVAL
    }

    to_sql_checked!();
}

impl<'a> FromSql<'a> for Interval {
    fn from_sql(_: &Type, raw: &'a [u8]) -> Result<Self, BoxError> {
        let (micros, rest) = raw.split_first_chunk::<8>().ok_or("interval too short")?;
        let (days, rest) = rest.split_first_chunk::<4>().ok_or("interval too short")?;
        let months: [u8; 4] = rest.try_into().map_err(|_| "interval has a bad length")?;
        Ok(Interval(pg::Interval {
            micros: i64::from_be_bytes(*micros),
            days: i32::from_be_bytes(*days),
            months: i32::from_be_bytes(months),
        }))
    }

    fn accepts(ty: &Type) -> bool {
        *ty == Type::INTERVAL
    }
}

/// SQL NULL for a parameter of any type.
#[derive(Debug)]
pub struct Null;

impl ToSql for Null {
    fn to_sql(&self, _: &Type, _: &mut BytesMut) -> Result<IsNull, BoxError> {
        Ok(IsNull::Yes)
    }

    fn accepts(_: &Type) -> bool {
        true
    }

    to_sql_checked!();
}

/// A value of a type with no WIT case: its binary wire bytes.
pub struct Raw(pub Vec<u8>);

impl<'a> FromSql<'a> for Raw {
    fn from_sql(_: &Type, raw: &'a [u8]) -> Result<Self, BoxError> {
        Ok(Raw(raw.to_vec()))
    }

    fn accepts(_: &Type) -> bool {
        true
    }
}

/// A `numeric` usable as a range bound (continuous: no normalisation).
#[derive(Debug, Clone, Copy, PartialEq, PartialOrd)]
pub struct RangeDecimal(pub rust_decimal::Decimal);

impl Normalizable for RangeDecimal {
    fn normalize<S: BoundSided>(bound: RangeBound<S, Self>) -> RangeBound<S, Self> {
        bound
    }
}

impl ToSql for RangeDecimal {
    fn to_sql(&self, ty: &Type, out: &mut BytesMut) -> Result<IsNull, BoxError> {
        self.0.to_sql(ty, out)
    }

    fn accepts(ty: &Type) -> bool {
        <rust_decimal::Decimal as ToSql>::accepts(ty)
    }

    to_sql_checked!();
}

impl<'a> FromSql<'a> for RangeDecimal {
    fn from_sql(ty: &Type, raw: &'a [u8]) -> Result<Self, BoxError> {
        rust_decimal::Decimal::from_sql(ty, raw).map(RangeDecimal)
    }

    fn accepts(ty: &Type) -> bool {
        <rust_decimal::Decimal as FromSql>::accepts(ty)
    }
}
