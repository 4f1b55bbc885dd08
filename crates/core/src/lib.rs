//! Beacon's domain: types that can only hold valid values, and the rules of the business as pure
//! functions. Nothing here performs IO; the current time is always passed in (see [`clock`]).

/// `as_str`, `parse` and `ALL` for an enum whose variants have stable snake_case names.
macro_rules! names {
    ($ty:ty { $($variant:ident => $name:literal),+ $(,)? }) => {
        impl $ty {
            pub const ALL: &'static [$ty] = &[$(<$ty>::$variant),+];

            pub fn as_str(self) -> &'static str {
                match self {
                    $(<$ty>::$variant => $name),+
                }
            }

            pub fn parse(s: &str) -> Option<Self> {
                Self::ALL.iter().copied().find(|v| v.as_str() == s)
            }
        }
    };
}

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
pub mod personal;
pub mod scope;
pub mod text;
pub mod tipoff;
