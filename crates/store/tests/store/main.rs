//! Store tests: every test runs on SQLite and on PostgreSQL (`name::sqlite`, `name::postgres`).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod attachment;
mod audit;
mod danger;
mod duty;
mod enterprise;
mod incident;
mod org;
mod outbox;
mod schema;
mod session;

use beacon_core::audit::Actor;
use beacon_core::clock::ManualClock;
use beacon_core::org::{Role, UnitLevel};
use beacon_core::scope::Scope;
use beacon_store::org::NewUser;
use beacon_store::testing::{self, TestDatabase};
use beacon_store::{Backend, Store};

pub struct TestStore {
    pub db: TestDatabase,
    pub store: Store,
    pub clock: ManualClock,
}

impl TestStore {
    pub async fn new(backend: Backend) -> Self {
        let db = TestDatabase::new(backend).await;
        let (store, clock) = db.store().await;
        Self { db, store, clock }
    }

    pub fn operator() -> Actor {
        Actor::system("test")
    }

    /// A city with two districts and a township under the first: returns their ids.
    pub async fn city(&self) -> Tree {
        let city = self.unit(None, "990100", "临江市", UnitLevel::City).await;
        let east = self.unit(Some(&city), "990102", "东湖区", UnitLevel::District).await;
        let west = self.unit(Some(&city), "990103", "西山区", UnitLevel::District).await;
        let town = self.unit(Some(&east), "990102001", "湖滨街道", UnitLevel::Township).await;
        Tree { city, east, west, town }
    }

    pub async fn unit(
        &self,
        parent: Option<&str>,
        code: &str,
        name: &str,
        level: UnitLevel,
    ) -> String {
        testing::add_unit(&self.store, parent, code, name, level).await
    }

    pub async fn user(&self, username: &str, unit_id: &str, roles: &[Role]) -> String {
        self.store
            .create_user(&Scope::Global, &Self::operator(), new_user(username, unit_id, roles))
            .await
            .unwrap()
            .id
    }
}

/// An account whose password hash is never used to sign in.
pub fn new_user(username: &str, unit_id: &str, roles: &[Role]) -> NewUser {
    let mut user =
        testing::new_user(username, unit_id, roles, "$argon2id$placeholder-not-used-for-sign-in");
    user.must_change_password = true;
    user
}

pub struct Tree {
    pub city: String,
    pub east: String,
    pub west: String,
    pub town: String,
}
