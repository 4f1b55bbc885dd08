//! Beacon's persistence. One [`Store`] speaks to SQLite (one file, the embedded default) or to
//! PostgreSQL (when several instances run), chosen by the database URL. SQL is written once with
//! `$n` placeholders, which both backends accept, over portable types: text ids, epoch-millisecond
//! instants, JSON as text. Where the dialects differ the difference is fenced in [`db`] and in the
//! two migration folders.
//!
//! Every query on scoped data goes through [`scope::filter`]: the territorial rule lives there.
//! Every write appends its audit record in the same transaction (see [`audit`]).

pub mod attachment;
pub mod audit;
pub mod blob;
pub mod calendar;
pub mod campaign;
pub mod danger;
mod db;
pub mod deadline;
pub mod duty;
pub mod enterprise;
mod error;
mod group;
pub mod imports;
pub mod incident;
pub mod inspection;
pub mod names;
pub mod notify;
mod numbers;
pub mod org;
pub mod outbox;
pub mod scope;
mod settings;
mod sql;
#[cfg(feature = "testing")]
pub mod testing;
pub mod timeline;
pub mod tipoff;

pub use db::{Backend, ConnectOptions, Store, Tx};
pub use error::StoreError;

/// A page of results with the total count, for list endpoints.
#[derive(Debug, Clone, PartialEq, serde::Serialize, utoipa::ToSchema)]
pub struct Page<T> {
    pub items: Vec<T>,
    pub total: i64,
    pub page: u32,
    pub per_page: u32,
}
