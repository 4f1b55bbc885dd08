//! Beacon's domain: types that can only hold valid values, and the rules of the business as pure
//! functions. Nothing here performs IO; the current time is always passed in (see [`clock`]).

pub mod attachment;
pub mod audit;
pub mod calendar;
pub mod campaign;
pub mod clock;
pub mod danger;
pub mod duty;
pub mod enterprise;
pub mod error;
pub mod event;
pub mod geo;
pub mod id;
pub mod incident;
pub mod inspection;
pub mod notify;
pub mod org;
pub mod page;
pub mod scope;
pub mod text;
