//! The real `crm-host up` process: JSON log lines on its stdout/stderr, secrets never
//! printed, slow statements logged without parameters, shutdown drains and ends promptly.

mod host_process;
mod logs;
mod secrets;
mod shutdown;
