//! Host bindings generated from `wit/` (Spin's interfaces, exact names).

wasmtime::component::bindgen!({
    path: "../../wit",
    world: "crm:host/host",
    imports: { default: async | trappable },
    with: {
        "fermyon:spin/key-value.store": crate::key_value::KvHandle,
        "fermyon:spin/sqlite.connection": crate::sqlite::SqliteHandle,
        "wasi:keyvalue/store.bucket": crate::key_value::KvHandle,
        "wasi:keyvalue/atomics.cas": crate::key_value::wasi::CasHandle,
        "spin:postgres/postgres.connection": crate::postgres::PgConnection,
    },
});
