//! Validation failures collected per field, each with a stable code the UI translates.

use std::collections::BTreeMap;
use std::fmt;

use serde::Serialize;

/// Field name → error code (for example `username` → `too_short`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
#[serde(transparent)]
pub struct ValidationErrors(BTreeMap<String, String>);

impl ValidationErrors {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn single(field: impl Into<String>, code: impl Into<String>) -> Self {
        let mut errors = Self::new();
        errors.add(field, code);
        errors
    }

    /// Records the first error for a field; later ones for the same field are dropped so the
    /// user sees one clear message per field.
    pub fn add(&mut self, field: impl Into<String>, code: impl Into<String>) {
        self.0.entry(field.into()).or_insert_with(|| code.into());
    }

    /// Runs a parse and keeps its value, or records its error under `field`.
    pub fn check<T>(&mut self, field: &str, result: Result<T, &'static str>) -> Option<T> {
        match result {
            Ok(value) => Some(value),
            Err(code) => {
                self.add(field, code);
                None
            }
        }
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    pub fn get(&self, field: &str) -> Option<&str> {
        self.0.get(field).map(String::as_str)
    }

    pub fn fields(&self) -> &BTreeMap<String, String> {
        &self.0
    }

    pub fn into_result(self) -> Result<(), Self> {
        if self.is_empty() { Ok(()) } else { Err(self) }
    }
}

impl fmt::Display for ValidationErrors {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut first = true;
        for (field, code) in &self.0 {
            if !first {
                f.write_str(", ")?;
            }
            write!(f, "{field}: {code}")?;
            first = false;
        }
        Ok(())
    }
}

impl std::error::Error for ValidationErrors {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_first_error_per_field() {
        let mut errors = ValidationErrors::new();
        errors.add("name", "required");
        errors.add("name", "too_long");
        errors.add("code", "invalid");
        assert_eq!(errors.get("name"), Some("required"));
        assert_eq!(errors.to_string(), "code: invalid, name: required");
        assert!(errors.into_result().is_err());
    }

    #[test]
    fn check_collects_errors_and_values() {
        let mut errors = ValidationErrors::new();
        assert_eq!(errors.check("a", Ok::<_, &str>(1)), Some(1));
        assert_eq!(errors.check::<u8>("b", Err("bad")), None);
        assert_eq!(errors.get("b"), Some("bad"));
    }
}
