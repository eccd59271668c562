//! `spin:postgres/postgres@4.0.0` (what `spin_sdk::pg4` imports) on
//! tokio-postgres: the `allowed_outbound_hosts` check, pooled connections,
//! statements, and Spin's error shapes.

// The WIT's `error` carries a whole server error report; it is returned by
// value to the guest, so boxing it here would only add conversions.
#![allow(clippy::result_large_err)]

pub mod address;
pub mod pool;
pub mod types;
pub mod wire;

use crate::bindings::spin::postgres::postgres as pg;
use crate::state::RequestState;
use std::sync::Arc;
use tokio_postgres::types::ToSql;
use types::SqlParameter;
use wasmtime::component::Resource;

/// An open connection, as the guest's `connection` resource: a pooled client
/// held until the guest drops the handle (or the request ends).
pub struct PgConnection {
    client: Arc<deadpool_postgres::Object>,
    /// The address without its password, for logs.
    label: String,
}

type PgResult<T> = wasmtime::Result<Result<T, pg::Error>>;

impl RequestState {
    /// Refuse an address that reaches a host the component was not granted.
    fn ensure_pg_allowed(&self, config: &tokio_postgres::Config) -> Result<(), pg::Error> {
        let targets = address::targets(config).map_err(pg::Error::ConnectionFailed)?;
        for (host, port) in targets {
            if !self
                .component
                .outbound
                .allows_url(&format!("{host}:{port}"), "postgres")
            {
                crate::log::warn(
                    "postgres connection denied: host not in allowed_outbound_hosts",
                    &[
                        ("target_component", self.component.id.as_ref().into()),
                        ("request_id", self.hooks.request_id.as_ref().into()),
                        ("address", format!("postgres://{host}:{port}").into()),
                    ],
                );
                return Err(pg::Error::ConnectionFailed(format!(
                    "address postgres://{host}:{port} is not permitted"
                )));
            }
        }
        Ok(())
    }

    async fn open_pg(&mut self, address: &str) -> Result<PgConnection, pg::Error> {
        let config = address::parse(address).map_err(pg::Error::ConnectionFailed)?;
        self.ensure_pg_allowed(&config)?;
        let label = address::redact(address);
        match self.app.postgres.acquire(address, config).await {
            Ok(client) => Ok(PgConnection {
                client: Arc::new(client),
                label,
            }),
            Err(message) => {
                self.log_backend_error("postgres", &label, &message);
                Err(pg::Error::ConnectionFailed(message))
            }
        }
    }

    fn pg_connection(
        &self,
        handle: &Resource<PgConnection>,
    ) -> wasmtime::Result<(Arc<deadpool_postgres::Object>, String)> {
        let connection = self.table.get(handle)?;
        Ok((connection.client.clone(), connection.label.clone()))
    }

    /// Log a failure that lost the connection. Statement errors, malformed
    /// parameters and unconvertible values are the guest's to handle.
    fn log_pg_failure<T>(
        &self,
        client: &tokio_postgres::Client,
        label: &str,
        result: &Result<T, pg::Error>,
    ) {
        if let Err(error) = result
            && client.is_closed()
        {
            self.log_backend_error("postgres", label, &format!("connection lost: {error:?}"));
        }
    }
}

/// Bind parameters; `malformed` picks the error case (Spin differs per function).
fn bind(
    params: &[pg::ParameterValue],
    malformed: fn(String) -> pg::Error,
) -> Result<Vec<SqlParameter>, pg::Error> {
    params
        .iter()
        .enumerate()
        .map(|(i, p)| {
            types::parameter(p).map_err(|e| malformed(format!("parameter ${}: {e}", i + 1)))
        })
        .collect()
}

fn as_refs(params: &[SqlParameter]) -> Vec<&(dyn ToSql + Sync)> {
    params
        .iter()
        .map(|p| p.as_ref() as &(dyn ToSql + Sync))
        .collect()
}

async fn run_query(
    client: &tokio_postgres::Client,
    statement: &str,
    params: Vec<pg::ParameterValue>,
) -> Result<pg::RowSet, pg::Error> {
    let bound = bind(&params, pg::Error::BadParameter)?;
    let rows = client
        .query(statement, &as_refs(&bound))
        .await
        .map_err(query_failed)?;
    // Like Spin, columns are described from the first row: none without rows.
    let columns = rows.first().map_or_else(Vec::new, |row| {
        row.columns()
            .iter()
            .map(|c| pg::Column {
                name: c.name().to_owned(),
                data_type: types::column_type(c.type_()),
            })
            .collect()
    });
    let rows = rows
        .iter()
        .map(types::row_values)
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| pg::Error::QueryFailed(pg::QueryError::Text(format!("{e:?}"))))?;
    Ok(pg::RowSet { columns, rows })
}

async fn run_execute(
    client: &tokio_postgres::Client,
    statement: &str,
    params: Vec<pg::ParameterValue>,
) -> Result<u64, pg::Error> {
    let bound = bind(&params, pg::Error::ValueConversionFailed)?;
    client
        .execute(statement, &as_refs(&bound))
        .await
        .map_err(query_failed)
}

/// A driver error as `query-failed`: structured when the server reported it
/// (SQLSTATE in `code`, e.g. `23505` for a unique violation), else text.
fn query_failed(error: tokio_postgres::Error) -> pg::Error {
    let as_text = format!("{error:?}");
    pg::Error::QueryFailed(match error.as_db_error() {
        None => pg::QueryError::Text(as_text),
        Some(db) => pg::QueryError::DbError(pg::DbError {
            as_text,
            severity: db.severity().to_owned(),
            code: db.code().code().to_owned(),
            message: db.message().to_owned(),
            detail: db.detail().map(str::to_owned),
            extras: extras(db),
        }),
    })
}

/// The report's optional fields, by name, in a fixed order.
fn extras(db: &tokio_postgres::error::DbError) -> Vec<(String, String)> {
    let line = db.line().map(|l| l.to_string());
    [
        ("column", db.column()),
        ("constraint", db.constraint()),
        ("routine", db.routine()),
        ("hint", db.hint()),
        ("table", db.table()),
        ("datatype", db.datatype()),
        ("schema", db.schema()),
        ("file", db.file()),
        ("line", line.as_deref()),
        ("where_", db.where_()),
    ]
    .into_iter()
    .filter_map(|(name, value)| value.map(|v| (name.to_owned(), v.to_owned())))
    .collect()
}

impl pg::Host for RequestState {}

impl pg::HostConnection for RequestState {
    async fn open(&mut self, address: String) -> PgResult<Resource<PgConnection>> {
        match self.open_pg(&address).await {
            Ok(connection) => Ok(Ok(self.table.push(connection)?)),
            Err(e) => Ok(Err(e)),
        }
    }

    async fn query(
        &mut self,
        this: Resource<PgConnection>,
        statement: String,
        params: Vec<pg::ParameterValue>,
    ) -> PgResult<pg::RowSet> {
        let (client, label) = self.pg_connection(&this)?;
        let result = run_query(&client, &statement, params).await;
        self.log_pg_failure(&client, &label, &result);
        Ok(result)
    }

    async fn execute(
        &mut self,
        this: Resource<PgConnection>,
        statement: String,
        params: Vec<pg::ParameterValue>,
    ) -> PgResult<u64> {
        let (client, label) = self.pg_connection(&this)?;
        let result = run_execute(&client, &statement, params).await;
        self.log_pg_failure(&client, &label, &result);
        Ok(result)
    }

    async fn drop(&mut self, this: Resource<PgConnection>) -> wasmtime::Result<()> {
        self.table.delete(this)?;
        Ok(())
    }
}
