//! The client book: the client model and its validation, JSON Merge Patch, list queries
//! with keyset cursors, search words, and the routes `clients` serves. No I/O.

pub mod input;
pub mod list;
pub mod model;
pub mod routes;
pub mod search;

pub use input::{draft_from_json, merge_patch};
pub use list::{ListQuery, PageQuery, Position, QueryError, Sort};
pub use model::{ClientDraft, Phone, Properties, Status, StoredDraft, Tag};
