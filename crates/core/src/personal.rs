//! Personal data (ARCHITECTURE.md "Personal data"): fields that identify a whistle-blower, a
//! petitioner or a caller are sealed before they are stored (AES-256-GCM, a fresh 96-bit nonce
//! per value), matched through keyed hashes (HMAC-SHA-256) so that equal values can be found
//! without being readable, and masked wherever a list shows them.
//!
//! One 32-byte secret per deployment ([`PersonalKey`]) gives both keys, each derived with its own
//! label so that the hash never reveals anything about the cipher key. A sealed value carries
//! its version (`v1:`), so a later algorithm (SM4 where an assessment requires it) can sit
//! beside it.

use aes_gcm::aead::{Aead, KeyInit};
use aes_gcm::{Aes256Gcm, Nonce};
use base64::Engine;
use base64::engine::general_purpose::STANDARD_NO_PAD;
use hmac::{Hmac, Mac};
use rand::Rng;
use sha2::{Digest, Sha256};

/// Bytes of the deployment's secret.
pub const KEY_BYTES: usize = 32;
const NONCE_BYTES: usize = 12;
const VERSION: &str = "v1:";

/// The deployment's personal-data secret and the two keys derived from it.
#[derive(Clone)]
pub struct PersonalKey {
    cipher: Aes256Gcm,
    mac_key: [u8; 32],
}

impl std::fmt::Debug for PersonalKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("PersonalKey(..)")
    }
}

/// Why a sealed value could not be opened: it was sealed under another key, or damaged.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Unreadable;

fn derive(secret: &[u8; KEY_BYTES], label: &str) -> [u8; 32] {
    let mut hash = Sha256::new();
    hash.update(label.as_bytes());
    hash.update(secret);
    hash.finalize().into()
}

impl PersonalKey {
    pub fn from_secret(secret: &[u8; KEY_BYTES]) -> Self {
        let cipher_key = derive(secret, "beacon personal data: cipher v1");
        Self {
            cipher: Aes256Gcm::new(&cipher_key.into()),
            mac_key: derive(secret, "beacon personal data: keyed hash v1"),
        }
    }

    /// A new random secret (for a new deployment's key file, and for tests).
    pub fn new_secret() -> [u8; KEY_BYTES] {
        let mut secret = [0u8; KEY_BYTES];
        rand::rng().fill(&mut secret[..]);
        secret
    }

    /// The secret as a key file holds it: 64 hexadecimal digits.
    pub fn parse_secret(text: &str) -> Result<[u8; KEY_BYTES], &'static str> {
        let bytes = hex::decode(text.trim()).map_err(|_| "not_hex")?;
        bytes.try_into().map_err(|_| "wrong_length")
    }

    /// Seals a value: `v1:` and the base64 of nonce and ciphertext.
    pub fn seal(&self, plain: &str) -> String {
        let mut nonce = [0u8; NONCE_BYTES];
        rand::rng().fill(&mut nonce[..]);
        // Encryption into a Vec cannot fail for inputs under 64 GiB.
        let sealed = self.cipher.encrypt(Nonce::from_slice(&nonce), plain.as_bytes());
        let mut out = nonce.to_vec();
        out.extend(sealed.unwrap_or_default());
        format!("{VERSION}{}", STANDARD_NO_PAD.encode(out))
    }

    pub fn open(&self, sealed: &str) -> Result<String, Unreadable> {
        let body = sealed.strip_prefix(VERSION).ok_or(Unreadable)?;
        let bytes = STANDARD_NO_PAD.decode(body).map_err(|_| Unreadable)?;
        if bytes.len() < NONCE_BYTES {
            return Err(Unreadable);
        }
        let (nonce, data) = bytes.split_at(NONCE_BYTES);
        let plain = self.cipher.decrypt(Nonce::from_slice(nonce), data).map_err(|_| Unreadable)?;
        String::from_utf8(plain).map_err(|_| Unreadable)
    }

    /// A keyed hash (hex) of a value, for matching equal values without reading them; `what`
    /// keeps hashes of different kinds of value apart.
    pub fn keyed_hash(&self, what: &str, value: &str) -> String {
        // HMAC takes a key of any length.
        let Ok(mut mac) = <Hmac<Sha256> as Mac>::new_from_slice(&self.mac_key) else {
            return String::new();
        };
        mac.update(what.as_bytes());
        mac.update(&[0]);
        mac.update(value.as_bytes());
        hex::encode(mac.finalize().into_bytes())
    }
}

/// A name as a list shows it: the first character, the rest starred (张** for 张三丰).
pub fn mask_name(name: &str) -> String {
    let mut chars = name.chars();
    match chars.next() {
        None => String::new(),
        Some(first) => {
            let rest = chars.count().max(1);
            format!("{first}{}", "*".repeat(rest))
        }
    }
}

/// A phone number as a list shows it: the first three and the last four digits (138****5678);
/// a short number keeps only its last two.
pub fn mask_phone(phone: &str) -> String {
    let chars: Vec<char> = phone.chars().collect();
    let n = chars.len();
    if n >= 8 {
        let head: String = chars[..3].iter().collect();
        let tail: String = chars[n - 4..].iter().collect();
        format!("{head}{}{tail}", "*".repeat(n - 7))
    } else if n > 2 {
        let tail: String = chars[n - 2..].iter().collect();
        format!("{}{tail}", "*".repeat(n - 2))
    } else {
        "*".repeat(n)
    }
}

/// A phone number as typed, reduced to what identifies it: digits only (spaces, dashes, a
/// leading +86 dropped), 5 to 20 of them.
pub fn normalize_phone(phone: &str) -> Result<String, &'static str> {
    let trimmed = phone.trim();
    let mut digits: String =
        trimmed.chars().filter(|c| !matches!(c, ' ' | '-' | '(' | ')')).collect();
    if let Some(rest) = digits.strip_prefix("+86") {
        digits = rest.to_owned();
    }
    if !digits.chars().all(|c| c.is_ascii_digit()) {
        return Err("invalid_phone");
    }
    if !(5..=20).contains(&digits.len()) {
        return Err("invalid_phone");
    }
    Ok(digits)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seals_and_opens_with_the_same_secret_only() {
        let secret = PersonalKey::new_secret();
        let key = PersonalKey::from_secret(&secret);
        let sealed = key.seal("张三 13800138000");
        assert!(sealed.starts_with("v1:"));
        assert!(!sealed.contains("张三"));
        assert_eq!(key.open(&sealed).as_deref(), Ok("张三 13800138000"));
        // A fresh nonce each time: equal values do not look equal sealed.
        assert_ne!(key.seal("张三"), key.seal("张三"));
        let other = PersonalKey::from_secret(&PersonalKey::new_secret());
        assert_eq!(other.open(&sealed), Err(Unreadable));
        let mut damaged = sealed.clone();
        damaged.push('A');
        assert_eq!(key.open(&damaged), Err(Unreadable));
        assert_eq!(key.open("plain"), Err(Unreadable));
    }

    #[test]
    fn keyed_hashes_match_equal_values_under_one_key() {
        let secret = PersonalKey::new_secret();
        let key = PersonalKey::from_secret(&secret);
        let again = PersonalKey::from_secret(&secret);
        assert_eq!(key.keyed_hash("phone", "138"), again.keyed_hash("phone", "138"));
        assert_ne!(key.keyed_hash("phone", "138"), key.keyed_hash("address", "138"));
        let other = PersonalKey::from_secret(&PersonalKey::new_secret());
        assert_ne!(key.keyed_hash("phone", "138"), other.keyed_hash("phone", "138"));
        assert_eq!(key.keyed_hash("phone", "138").len(), 64);
    }

    #[test]
    fn secrets_round_trip_through_hex() {
        let secret = PersonalKey::new_secret();
        assert_eq!(PersonalKey::parse_secret(&format!("{}\n", hex::encode(secret))), Ok(secret));
        assert_eq!(PersonalKey::parse_secret("zz"), Err("not_hex"));
        assert_eq!(PersonalKey::parse_secret("abcd"), Err("wrong_length"));
    }

    #[test]
    fn masks() {
        assert_eq!(mask_name("张三丰"), "张**");
        assert_eq!(mask_name("李"), "李*");
        assert_eq!(mask_name(""), "");
        assert_eq!(mask_phone("13800138000"), "138****8000");
        assert_eq!(mask_phone("12345"), "***45");
        assert_eq!(normalize_phone("+86 138-0013-8000"), Ok("13800138000".to_owned()));
        assert_eq!(normalize_phone("0591-87654321"), Ok("059187654321".to_owned()));
        assert_eq!(normalize_phone("abc"), Err("invalid_phone"));
        assert_eq!(normalize_phone("12"), Err("invalid_phone"));
    }
}
