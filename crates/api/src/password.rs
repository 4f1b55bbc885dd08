//! Password hashing with Argon2id, off the async threads and with bounded concurrency (each hash
//! holds ~19 MiB; an unbounded burst of sign-ins would exhaust memory).

use std::sync::Arc;

use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::{Algorithm, Argon2, Params, Version};
use rand::RngCore;
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

/// Argon2id cost. The default is OWASP's recommendation (19 MiB, 2 passes, 1 lane).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PasswordParams {
    pub memory_kib: u32,
    pub iterations: u32,
    pub parallelism: u32,
}

impl Default for PasswordParams {
    fn default() -> Self {
        Self { memory_kib: 19 * 1024, iterations: 2, parallelism: 1 }
    }
}

impl PasswordParams {
    /// Cheap parameters for tests only: hashing dominates a test suite that signs in a lot.
    pub fn insecure_fast() -> Self {
        Self { memory_kib: 64, iterations: 1, parallelism: 1 }
    }
}

#[derive(Clone)]
pub struct Passwords {
    argon: Argon2<'static>,
    permits: Arc<Semaphore>,
    /// Verified against when the name is unknown, so unknown names cost the same time as wrong
    /// passwords and the response time does not reveal which accounts exist.
    dummy_hash: Arc<str>,
}

#[derive(Debug, thiserror::Error)]
pub enum PasswordError {
    #[error("invalid Argon2 parameters: {0}")]
    Params(String),
    #[error("hashing failed: {0}")]
    Hash(String),
}

impl Passwords {
    pub fn new(params: PasswordParams) -> Result<Self, PasswordError> {
        let params = Params::new(params.memory_kib, params.iterations, params.parallelism, None)
            .map_err(|e| PasswordError::Params(e.to_string()))?;
        let argon = Argon2::new(Algorithm::Argon2id, Version::V0x13, params);
        let permits = std::thread::available_parallelism().map_or(2, |n| n.get() * 2);
        let dummy_hash = hash_with(&argon, &random_text())?;
        Ok(Self {
            argon,
            permits: Arc::new(Semaphore::new(permits)),
            dummy_hash: dummy_hash.into(),
        })
    }

    pub async fn hash(&self, password: String) -> Result<String, PasswordError> {
        let _permit =
            self.permits.acquire().await.map_err(|e| PasswordError::Hash(e.to_string()))?;
        let argon = self.argon.clone();
        tokio::task::spawn_blocking(move || hash_with(&argon, &password))
            .await
            .map_err(|e| PasswordError::Hash(e.to_string()))?
    }

    /// A place among the hashes that may run at once. Taking it before checking a lock lets a
    /// flood of queued sign-ins see the lock the first failures set.
    pub async fn permit(&self) -> Result<HashPermit, PasswordError> {
        let permit = self
            .permits
            .clone()
            .acquire_owned()
            .await
            .map_err(|e| PasswordError::Hash(e.to_string()))?;
        Ok(HashPermit(permit))
    }

    /// Checks a password against a stored hash, or against the dummy hash when there is none
    /// (and then answers false). Always costs one full Argon2 computation.
    pub async fn verify(&self, password: String, hash: Option<String>) -> bool {
        match self.permit().await {
            Ok(permit) => self.verify_with(&permit, password, hash).await,
            Err(_) => false,
        }
    }

    /// [`Passwords::verify`] with a place already taken (and kept by the caller, who may hold it
    /// until the outcome is recorded).
    pub async fn verify_with(
        &self,
        _permit: &HashPermit,
        password: String,
        hash: Option<String>,
    ) -> bool {
        let argon = self.argon.clone();
        let known = hash.is_some();
        let hash = hash.unwrap_or_else(|| self.dummy_hash.to_string());
        let verified = tokio::task::spawn_blocking(move || {
            PasswordHash::new(&hash)
                .is_ok_and(|parsed| argon.verify_password(password.as_bytes(), &parsed).is_ok())
        })
        .await
        .unwrap_or(false);
        known && verified
    }
}

/// See [`Passwords::permit`].
pub struct HashPermit(#[allow(dead_code)] OwnedSemaphorePermit);

fn hash_with(argon: &Argon2<'_>, password: &str) -> Result<String, PasswordError> {
    let mut salt = [0_u8; 16];
    rand::rng().fill_bytes(&mut salt);
    let salt = SaltString::encode_b64(&salt).map_err(|e| PasswordError::Hash(e.to_string()))?;
    argon
        .hash_password(password.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(|e| PasswordError::Hash(e.to_string()))
}

/// 32 random bytes as URL-safe base64: session tokens, API tokens, throwaway secrets.
pub fn random_text() -> String {
    use base64::Engine;
    let mut bytes = [0_u8; 32];
    rand::rng().fill_bytes(&mut bytes);
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

/// What the database stores of a token: its SHA-256, hex.
pub fn token_hash(token: &str) -> String {
    use sha2::{Digest, Sha256};
    hex::encode(Sha256::digest(token.as_bytes()))
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn hashes_verify_and_unknown_users_fail() {
        let passwords = Passwords::new(PasswordParams::insecure_fast()).unwrap();
        let hash = passwords.hash("Correct-Horse-1".into()).await.unwrap();
        assert!(hash.starts_with("$argon2id$"));
        assert!(passwords.verify("Correct-Horse-1".into(), Some(hash.clone())).await);
        assert!(!passwords.verify("wrong".into(), Some(hash)).await);
        assert!(!passwords.verify("anything".into(), None).await);
        assert!(!passwords.verify("x".into(), Some("not a hash".into())).await);
    }

    #[test]
    fn tokens_are_random_and_hashed() {
        let a = random_text();
        assert_eq!(a.len(), 43);
        assert_ne!(a, random_text());
        assert_eq!(token_hash("abc").len(), 64);
        assert_eq!(token_hash("abc"), token_hash("abc"));
    }
}
