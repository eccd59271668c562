//! `spin:postgres/postgres@4.0.0` (what `spin_sdk::pg4` imports) on
//! tokio-postgres: the interface itself. The grant check is in `address`, pools in
//! `pool`, TLS in `tls`, statements in `statements`, the result cap in `result`.

// The WIT's `error` carries a whole server error report; it is returned by
// value to the guest, so boxing it here would only add conversions.
#![allow(clippy::result_large_err)]

mod address;
mod errors;
mod label;
mod lru;
pub mod pool;
mod result;
mod statements;
mod tls;
pub mod types;
pub mod wire;

use crate::bindings::spin::postgres::postgres as pg;
use crate::state::RequestState;
use std::sync::Arc;
use wasmtime::component::Resource;

/// An open connection, as the guest's `connection` resource: a pooled client
/// held until the guest drops the handle (or the request ends).
pub struct PgConnection {
    client: Arc<pool::Object>,
    /// Where it goes, without any password, for logs.
    label: String,
}

type PgResult<T> = wasmtime::Result<Result<T, pg::Error>>;

impl RequestState {
    async fn open_pg(&mut self, address: &str) -> Result<PgConnection, pg::Error> {
        let config =
            address::parse(address).map_err(|e| pg::Error::ConnectionFailed(e.to_string()))?;
        let label = label::label(&config);
        if let Err(refusal) = address::ensure_allowed(&config, &self.component.outbound) {
            self.log_pg_refusal(&label, &refusal.message());
            return Err(pg::Error::ConnectionFailed(refusal.message()));
        }
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

    fn log_pg_refusal(&self, label: &str, reason: &str) {
        crate::log::warn(
            "postgres connection denied: host not in allowed_outbound_hosts",
            &[
                ("target_component", self.component.id.as_ref().into()),
                ("request_id", self.request_id().into()),
                ("address", label.into()),
                ("reason", reason.into()),
            ],
        );
    }

    fn pg_connection(
        &self,
        handle: &Resource<PgConnection>,
    ) -> wasmtime::Result<(Arc<pool::Object>, String)> {
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
        let effect = client.statement_starting(&statement);
        let result = statements::query(&client, &statement, params).await;
        client.statement_finished(effect, result.is_ok());
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
        let effect = client.statement_starting(&statement);
        let result = statements::execute(&client, &statement, params).await;
        client.statement_finished(effect, result.is_ok());
        self.log_pg_failure(&client, &label, &result);
        Ok(result)
    }

    async fn drop(&mut self, this: Resource<PgConnection>) -> wasmtime::Result<()> {
        self.table.delete(this)?;
        Ok(())
    }
}
